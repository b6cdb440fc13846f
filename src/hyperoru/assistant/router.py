"""/api/hyper-ai (SSE chat, conversations, the assistant's model), the polling fallback
/api/prompts/ai-chat-stream and /api/ai-stream/{task_id} (hyperoru-api-map §4.7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from hyperoru.assistant import conversations, model_settings
from hyperoru.assistant.dependencies import Runtime, Tools
from hyperoru.assistant.models import Conversation
from hyperoru.assistant.schemas import (
    ChatStart,
    ConversationOut,
    ConversationRename,
    ConversationWithMessages,
    MessageOut,
    ModelSettingsIn,
    ModelSettingsOut,
    Queued,
    TaskPage,
)
from hyperoru.assistant.turns import SseTurn, prepare_turn
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery

router = APIRouter(tags=["assistant"])

ConversationId = Annotated[int, Path(description="The conversation's id")]
TaskId = Annotated[str, Path(max_length=64, description="The task_id of ai-chat-stream")]
Since = Annotated[int, Query(ge=0, le=10**9, description="The cursor of the previous poll")]


async def owned_conversation(
    conversation_id: ConversationId, user: CurrentUser, db: DbSession
) -> Conversation:
    return await conversations.load_owned_conversation(
        db, user=user, conversation_id=conversation_id
    )


OwnedConversation = Annotated[Conversation, Depends(owned_conversation)]


def _services(request: Request) -> Any:
    return request.app.state.services  # hyperoru.services.Services


@router.post(
    "/api/hyper-ai/chat",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="One chat turn as server-sent events",
)
async def chat(
    body: ChatStart, request: Request, tools: Tools, runtime: Runtime
) -> StreamingResponse:
    """Frames: ``status`` (with ``conversation_id``, then keep-alives), ``token``,
    ``tool_call``, ``error``, ``done`` (``data: [DONE]``). Disconnecting stops the model."""
    services = _services(request)
    turn = await prepare_turn(
        runtime, tools, body, limiter=services.limiter, secret_box=services.secret_box
    )
    started = SseTurn(runtime, turn)
    return StreamingResponse(
        started.events(services.settings.assistant_keepalive_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(started.stop),
    )


@router.post("/api/prompts/ai-chat-stream", status_code=202, response_model=Queued)
async def chat_queued(body: ChatStart, request: Request, tools: Tools, runtime: Runtime) -> Queued:
    """The same turn run in the background; read it with ``GET /api/ai-stream/{task_id}``."""
    services = _services(request)
    turn = await prepare_turn(
        runtime, tools, body, limiter=services.limiter, secret_box=services.secret_box
    )
    task = await runtime.start_queued(turn)
    return Queued(status="queued", task_id=task.task_id)


@router.get("/api/ai-stream/{task_id}", response_model=TaskPage)
async def task_chunks(
    task_id: TaskId, user: CurrentUser, runtime: Runtime, since: Since = 0
) -> TaskPage:
    """The chunks after ``since``; pass ``next_cursor`` (or ``next``) back as ``since``."""
    return await runtime.tasks.page(user.id, task_id, since)


router.add_api_route(
    "/api/ai-stream/{task_id}/chunks",
    task_chunks,
    methods=["GET"],
    response_model=TaskPage,
    summary="The same as /api/ai-stream/{task_id} (the prose's spelling)",
)


def _conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut.model_validate(conversation)


@router.post("/api/hyper-ai/conversations", status_code=201, response_model=ConversationOut)
async def create_conversation(body: ChatStart, user: CurrentUser, db: DbSession) -> ConversationOut:
    """A new conversation titled after ``message``, keeping ``context`` and ``skill_ids``
    (the message itself is sent with ``/chat`` and this ``conversation_id``)."""
    created = await conversations.create_conversation(
        db,
        user=user,
        title=conversations.title_from(body.message),
        context=body.context,
        skill_ids=body.skill_ids,
    )
    return _conversation_out(created)


@router.get("/api/hyper-ai/conversations", response_model=list[ConversationOut])
async def list_conversations(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[ConversationOut]:
    found = await conversations.list_conversations(db, user=user, window=window)
    return [_conversation_out(c) for c in found]


@router.get(
    "/api/hyper-ai/conversations/{conversation_id}", response_model=ConversationWithMessages
)
async def read_conversation(
    conversation: OwnedConversation, db: DbSession
) -> ConversationWithMessages:
    messages = await conversations.messages_of(db, conversation)
    return ConversationWithMessages(
        **_conversation_out(conversation).model_dump(),
        messages=[MessageOut.model_validate(m) for m in messages],
    )


@router.patch("/api/hyper-ai/conversations/{conversation_id}", response_model=ConversationOut)
async def rename_conversation(
    body: ConversationRename, conversation: OwnedConversation, db: DbSession
) -> ConversationOut:
    return _conversation_out(await conversations.rename(db, conversation, body.title))


@router.delete("/api/hyper-ai/conversations/{conversation_id}")
async def delete_conversation(conversation: OwnedConversation, db: DbSession) -> dict[str, str]:
    await conversations.delete(db, conversation)
    return {"status": "ok"}


@router.get("/api/hyper-ai/model", response_model=ModelSettingsOut)
async def read_model(user: CurrentUser, db: DbSession) -> ModelSettingsOut:
    """The assistant's model; the key is write-only (``has_api_key``, ``api_key_hint``)."""
    return model_settings.settings_out(await model_settings.read_settings(db, user=user))


@router.put("/api/hyper-ai/model", response_model=ModelSettingsOut)
async def change_model(
    body: ModelSettingsIn, user: CurrentUser, db: DbSession, request: Request
) -> ModelSettingsOut:
    services = _services(request)
    row = await model_settings.change_settings(
        db, services.secret_box, services.outbound_guard, user=user, data=body
    )
    return model_settings.settings_out(row)
