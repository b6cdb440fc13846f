"""Request and response bodies of /api/prompts.

``content`` and ``template_text`` name the same field (both documented): either is
accepted and both are returned.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from hyperoru.api_types import MAX_ID, RequestModel, ResponseModel, UtcTime

# Templates are measured in UTF-8 bytes, the unit storage and model context care about.
MAX_CONTENT_BYTES = 64 * 1024
MAX_PREVIEW_SYMBOLS = 20

# Tab, newline and carriage return are fine in a prompt; NUL and the other C0 controls are
# not (PostgreSQL refuses NUL in text, which would surface as a 500).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _template_content(value: str) -> str:
    _no_control_characters(value)
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value.encode("utf-8")) > MAX_CONTENT_BYTES:
        raise ValueError(f"must be at most {MAX_CONTENT_BYTES} bytes (UTF-8)")
    return value


def _template_name(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be a single line")
    value = _no_control_characters(value).strip()
    if not 1 <= len(value) <= 120:
        raise ValueError("must be 1 to 120 characters")
    return value


def _symbol(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,20}", value):
        raise ValueError("must be a coin name such as BTC")
    return value


# Character caps first (cheap, and bound the work of the byte count after them).
TemplateContent = Annotated[
    str, Field(max_length=MAX_CONTENT_BYTES), AfterValidator(_template_content)
]
TemplateName = Annotated[str, Field(max_length=512), AfterValidator(_template_name)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(_no_control_characters)]
Symbol = Annotated[str, Field(max_length=32), AfterValidator(_symbol)]


class _ContentSpellings(RequestModel):
    content: TemplateContent | None = None
    template_text: TemplateContent | None = None

    @model_validator(mode="after")
    def _spellings_agree(self) -> Any:
        if (
            self.content is not None
            and self.template_text is not None
            and self.content != self.template_text
        ):
            raise ValueError("'content' and 'template_text' name the same field: send one")
        return self

    @property
    def text(self) -> str | None:
        return self.content if self.content is not None else self.template_text


class PromptCreate(_ContentSpellings):
    name: TemplateName
    description: Description | None = None

    @model_validator(mode="after")
    def _content_required(self) -> PromptCreate:
        if self.text is None:
            raise ValueError("'content' (or 'template_text') is required")
        return self


class PromptUpdate(_ContentSpellings):
    """Every field optional; ``description: null`` clears the description."""

    name: TemplateName | None = None
    description: Description | None = None


class PromptRename(RequestModel):
    name: TemplateName


class PromptOut(ResponseModel):
    id: int
    prompt_id: int = Field(description="Same value as id")
    name: str
    description: str | None
    content: str
    template_text: str = Field(description="Same value as content")
    is_system: bool = Field(description="Built-in template: read-only, can be copied")
    system_key: str | None
    user_id: int | None = Field(description="null for built-in templates")
    variables: list[str] = Field(
        description="The template variables the content uses, in order of first use"
    )
    unknown_variables: list[str] = Field(
        description="Placeholders in the content that are no template variable: a render "
        "leaves them exactly as written (check for typos)"
    )
    created_at: UtcTime
    updated_at: UtcTime


class PreviewRequest(_ContentSpellings):
    prompt_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    account_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    symbols: Annotated[list[Symbol], Field(max_length=MAX_PREVIEW_SYMBOLS)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PreviewRequest:
        if (self.prompt_id is None) == (self.text is None):
            raise ValueError("send either 'prompt_id' or 'content', not both and not neither")
        return self


class PreviewOut(ResponseModel):
    rendered: str
    variables_used: list[str]
    unknown_variables: list[str]


class StatusOk(ResponseModel):
    status: Literal["ok"] = "ok"
