"""Request and response bodies of /api/programs."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from hyperoru.api_types import (
    MAX_ID,
    JsonDecimal,
    RequestModel,
    ResponseModel,
    StoredOut,
    UtcTime,
)
from hyperoru.programs.sandbox.policy import MAX_SOURCE_BYTES
from hyperoru.strategies.schemas import ParsedDecisionOut

MAX_PARAMS_BYTES = 16 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _code(value: str) -> str:
    # NUL would be refused by PostgreSQL as a 500; the AST policy reports everything else.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise ValueError(f"must be at most {MAX_SOURCE_BYTES} bytes (UTF-8)")
    return value


def _name(value: str) -> str:
    value = _no_control_characters(value).strip()
    if "\n" in value or not 1 <= len(value) <= 120:
        raise ValueError("must be a single line of 1 to 120 characters")
    return value


def _params(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value)) > MAX_PARAMS_BYTES:
        raise ValueError(f"must be at most {MAX_PARAMS_BYTES} bytes as JSON")
    return value


Code = Annotated[str, Field(max_length=MAX_SOURCE_BYTES), AfterValidator(_code)]
ProgramName = Annotated[str, Field(max_length=512), AfterValidator(_name)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(_no_control_characters)]
Params = Annotated[dict[str, Any], AfterValidator(_params)]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")]


class ProgramCreate(RequestModel):
    name: ProgramName
    code: Code
    description: Description | None = None
    params: Params = Field(default_factory=dict)
    enabled: bool = Field(default=True, description="Off: traders' cycles do not run it")


class ProgramUpdate(RequestModel):
    """Every field optional; ``description: null`` clears the description."""

    name: ProgramName | None = None
    code: Code | None = None
    description: Description | None = None
    params: Params | None = None
    enabled: bool | None = None


class ProgramOut(ResponseModel):
    id: int
    user_id: int
    name: str
    description: str | None
    code: str
    params: dict[str, Any]
    enabled: bool
    created_at: UtcTime
    updated_at: UtcTime


class ValidateRequest(RequestModel):
    code: Annotated[str, Field(max_length=MAX_SOURCE_BYTES * 4)]


class ValidationIssue(ResponseModel):
    line: int | None
    message: str


class ValidateOut(ResponseModel):
    valid: bool
    errors: list[ValidationIssue]


class TestRunRequest(RequestModel):
    program_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    symbol: Symbol | None = None
    account_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


class TestRunResultOut(StoredOut):
    action: str | None = Field(None, description="buy, sell, close or hold")
    # Always null: a program sizes by a share of the balance, not a base quantity.
    quantity: JsonDecimal | None = None
    reason: str | None = None
    decisions: list[ParsedDecisionOut] = Field(default_factory=list)


class TestRunOut(ResponseModel):
    status: Literal["ok", "error", "timeout"]
    result: TestRunResultOut | None = Field(
        description="{'action', 'quantity', 'reason', 'decisions': [...]}: the reference's "
        "summary of the first decision that acts (quantity null) and every decision as the "
        "pipeline parses it; null when the run failed"
    )
    logs: list[str]
    execution_time_ms: int
    error: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _result_only_when_ok(cls, data: Any) -> Any:
        # Only a run that succeeded has a parsed result; whatever else a failed run's
        # answer held (untrusted program output) is not ours to type or to send.
        if isinstance(data, dict) and data.get("status") != "ok":
            return {**data, "result": None}
        return data


class DevGuideOut(ResponseModel):
    guide: str


class StatusOk(ResponseModel):
    status: Literal["ok"] = "ok"
