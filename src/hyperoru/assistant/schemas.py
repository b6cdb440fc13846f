"""Request and response bodies of /api/hyper-ai, /api/prompts/ai-chat-stream and
/api/ai-stream (hyperoru-api-map §4.7)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from hyperoru.api_types import MAX_ID, RequestModel, ResponseModel, UtcTime

MAX_MESSAGE_CHARS = 8000
Message = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ChatStart(RequestModel):
    """The chat-start body: ``context`` and ``message`` required (the documented schema)."""

    context: dict[str, Any]
    message: Message
    conversation_id: Id | None = None
    skill_ids: Annotated[list[Id], Field(max_length=50)] | None = None


class ConversationRename(RequestModel):
    title: Annotated[str, Field(min_length=1, max_length=200)]


class ConversationOut(ResponseModel):
    id: int
    title: str
    message_count: int
    context: dict[str, Any]
    skill_ids: list[int]
    created_at: UtcTime
    updated_at: UtcTime | None


class MessageOut(ResponseModel):
    id: int
    role: str
    content: str
    tool_call: dict[str, Any] | None
    created_at: UtcTime


class ConversationWithMessages(ConversationOut):
    messages: list[MessageOut]


class Queued(ResponseModel):
    status: Literal["queued"]
    task_id: str


class ChunkOut(ResponseModel):
    index: int
    kind: str
    content: str
    metadata: dict[str, Any]


class TaskPage(ResponseModel):
    """Both documented spellings: ``is_done``/``next_cursor`` (the schema) and
    ``done``/``next`` (the prose); pass either cursor back as ``?since=``."""

    task_id: str
    status: str
    chunks: list[ChunkOut]
    is_done: bool
    done: bool
    next_cursor: int
    next: int
    error: dict[str, Any] | None


class ModelSettingsIn(RequestModel):
    """``provider: "builtin"`` (the default), any OpenAI-compatible provider with its model,
    base URL and key, or ``trader_id`` to use that trader's model and key."""

    provider: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    model: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    base_url: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    api_key: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    trader_id: Id | None = None


class ModelSettingsOut(ResponseModel):
    source: Literal["builtin", "own", "trader"]
    provider: str
    model: str | None
    base_url: str | None
    has_api_key: bool
    api_key_hint: str | None
    trader_id: int | None
