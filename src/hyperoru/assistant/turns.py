"""A chat turn from request to stored answer, shared by the SSE route and the polling
fallback: the limits are checked before anything streams (a refusal is a plain 429),
then one task runs the model and tools and hands every frame to its sink.

The turn ends with ``done`` (after ``error`` too). Cancelling its task (the SSE client
went away, or shutdown) stops the model call at once; what was said so far and the
tokens spent are still stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.assistant import conversations
from hyperoru.assistant.agent import Frame, TurnRecord, run_turn
from hyperoru.assistant.limits import StreamSlots, add_tokens, check_tokens, spend_message
from hyperoru.assistant.model_settings import chat_model_for
from hyperoru.assistant.models import Conversation
from hyperoru.assistant.schemas import ChatStart
from hyperoru.assistant.tasks import DONE_MARK, ChatTask, TaskStore
from hyperoru.assistant.tools import ToolContext
from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError
from hyperoru.ratelimit.limiter import RateLimiter
from hyperoru.stopping import cancel_and_wait
from hyperoru.strategies.llm.base import LlmError
from hyperoru.timeutils import utcnow
from hyperoru.vault.cipher import SecretBox

log = logging.getLogger("hyperoru.assistant")

Sink = Callable[[Frame], None]
OnEnd = Callable[[], Awaitable[None]]


@dataclass
class AssistantRuntime:
    """One per app (``app.state.assistant``): the model client, the stream counts, the
    polling tasks and every running turn."""

    http: httpx.AsyncClient
    tasks: TaskStore
    slots: StreamSlots
    running: set[asyncio.Task[None]] = field(default_factory=set)

    def start(self, turn: PreparedTurn, sink: Sink, on_end: OnEnd) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(turn, sink, on_end), name="assistant-turn")
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return task

    async def start_queued(self, turn: PreparedTurn) -> ChatTask:
        """The turn in the background, its frames kept by the task store for polls."""
        user_id = turn.ctx.user.id
        try:
            task = await self.tasks.new(user_id)
        except BaseException:
            await self.slots.release(user_id)
            raise

        async def ended() -> None:
            await self.tasks.ended(task)

        task.runner = self.start(turn, task.emit, ended)
        return task

    async def _run(self, turn: PreparedTurn, sink: Sink, on_end: OnEnd) -> None:
        try:
            await produce(turn, self.http, sink)
        finally:
            await self.slots.release(turn.ctx.user.id)
            await on_end()

    async def renew_forever(self, every_seconds: float) -> None:
        """The heartbeat: keeps the leases of this process's tasks and stream slots."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.tasks.renew()
                await self.slots.renew()
            except Exception:
                # A missed beat costs nothing yet (three per lease); a dead loop would.
                log.exception("assistant heartbeat failed", extra={"event": "assistant_heartbeat"})

    async def close(self) -> None:
        await self.tasks.close()
        await cancel_and_wait(*self.running)
        await self.http.aclose()


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    ctx: ToolContext
    conversation_id: int
    history: list[dict[str, Any]]
    message: str
    max_rounds: int
    secret_box: SecretBox


async def prepare_turn(
    runtime: AssistantRuntime,
    ctx: ToolContext,
    body: ChatStart,
    *,
    limiter: RateLimiter,
    secret_box: SecretBox,
) -> PreparedTurn:
    """Checks the limits (429 RATE_LIMITED), finds or creates the conversation (404/403),
    stores the user's message and takes a stream slot, which the turn's task gives back."""
    settings = ctx.settings
    await spend_message(
        limiter, user_id=ctx.user.id, per_minute=settings.assistant_messages_per_minute
    )
    async with ctx.sessionmaker() as session:
        await check_tokens(
            session, user_id=ctx.user.id, per_day=settings.assistant_tokens_per_day, now=utcnow()
        )
        await runtime.slots.acquire(ctx.user.id, settings.assistant_max_concurrent_streams)
        try:
            conversation = await _conversation(session, ctx.user, body)
            history = await conversations.history(session, conversation)
            await conversations.append(session, conversation, "user", body.message)
            await session.commit()
        except BaseException:
            await runtime.slots.release(ctx.user.id)
            raise
    return PreparedTurn(
        ctx=ctx,
        conversation_id=conversation.id,
        history=history,
        message=body.message,
        max_rounds=settings.assistant_max_tool_rounds,
        secret_box=secret_box,
    )


async def _conversation(session: AsyncSession, user: Principal, body: ChatStart) -> Conversation:
    if body.conversation_id is not None:
        return await conversations.load_owned_conversation(
            session, user=user, conversation_id=body.conversation_id
        )
    return await conversations.create_conversation(
        session,
        user=user,
        title=conversations.title_from(body.message),
        context=body.context,
        skill_ids=body.skill_ids,
    )


def _error(code: str, message: str, **details: Any) -> Frame:
    return Frame("error", {"code": code, "message": message, "details": details})


async def produce(turn: PreparedTurn, http: httpx.AsyncClient, sink: Sink) -> None:
    ctx = turn.ctx
    sink(Frame("status", {"status": "started", "conversation_id": turn.conversation_id}))
    record = TurnRecord()
    try:
        async with ctx.sessionmaker() as session:
            model = await chat_model_for(session, turn.secret_box, http, user=ctx.user)
        async for frame in run_turn(
            ctx, model, turn.history, turn.message, max_rounds=turn.max_rounds, record=record
        ):
            sink(frame)
    except LlmError as exc:
        sink(_error("UPSTREAM_ERROR", exc.message, kind=str(exc.kind)))
    except ApiError as exc:
        sink(_error(exc.code, exc.message))
    except Exception:
        log.exception("assistant turn failed", extra={"event": "assistant_turn_failed"})
        sink(_error("INTERNAL_ERROR", "The assistant failed; try again"))
    finally:
        # Also when cancelled: the answer so far and the tokens spent are kept.
        await _store(turn, record)
    sink(Frame("done", {"conversation_id": turn.conversation_id, "tokens": record.tokens}))


async def _store(turn: PreparedTurn, record: TurnRecord) -> None:
    ctx = turn.ctx
    async with ctx.sessionmaker() as session:
        conversation = await session.get(Conversation, turn.conversation_id)
        if conversation is not None:  # deleted while it answered
            for call in record.tool_calls:
                content = json.dumps(call.get("result"), default=str)[:4000]
                call_meta = {k: v for k, v in call.items() if k != "result"}
                await conversations.append(session, conversation, "tool", content, call_meta)
            used = list(dict.fromkeys(call["name"] for call in record.tool_calls))
            answer = "".join(record.text)
            answer_meta = {"from_tools": used} if used else None
            await conversations.append(session, conversation, "assistant", answer, answer_meta)
            await session.commit()
    await add_tokens(ctx.sessionmaker, user_id=ctx.user.id, tokens=record.tokens, now=utcnow())


def sse_event(frame: Frame) -> bytes:
    data = DONE_MARK if frame.kind == "done" else json.dumps(frame.data, default=str)
    return f"event: {frame.kind}\ndata: {data}\n\n".encode()


KEEPALIVE = Frame("status", {"status": "keepalive"})


class SseTurn:
    """A turn started now whose frames an SSE response sends. The model call stops when
    the response ends early (the client disconnected), including before its first
    byte: ``stop`` also runs as the response's background task."""

    def __init__(self, runtime: AssistantRuntime, turn: PreparedTurn) -> None:
        self._queue: asyncio.Queue[Frame | None] = asyncio.Queue()
        self._stopped = False
        self._task = runtime.start(turn, self._queue.put_nowait, self._ended)

    async def _ended(self) -> None:
        self._queue.put_nowait(None)

    def stop(self) -> None:
        # Once: a second cancel would interrupt the turn storing what it said so far.
        if not self._stopped:
            self._stopped = True
            self._task.cancel()

    async def events(self, keepalive_seconds: float) -> AsyncIterator[bytes]:
        """SSE bytes, with a keep-alive status frame whenever nothing was said for a while."""
        try:
            while True:
                try:
                    async with asyncio.timeout(keepalive_seconds):
                        frame = await self._queue.get()
                except TimeoutError:
                    yield sse_event(KEEPALIVE)
                    continue
                if frame is None:
                    return
                yield sse_event(frame)
        finally:
            self.stop()
