"""The polling fallback: a chat turn run in the background, its frames kept as numbered
chunks that ``GET /api/ai-stream/{task_id}?since=`` pages through.

One interface (``TaskStore``), two places the tasks live, chosen at start-up
(assistant/state.py) so the router never knows which:

- ``MemoryTaskStore`` (no Redis: one process): in the memory of this process.
- ``RedisTaskStore`` (assistant/redis_tasks.py): in Redis, so any API process answers a
  poll the same way.

A task is forgotten ``assistant_task_ttl_seconds`` after it ends. Task ids are
unguessable; another user's id answers 404 like an unknown one.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hyperoru.assistant.agent import Frame
from hyperoru.assistant.schemas import ChunkOut, TaskPage
from hyperoru.errors import ApiError, not_found
from hyperoru.stopping import cancel_and_wait

DONE_MARK = "[DONE]"
ENDED = ("done", "error")


def chunk_content(frame: Frame) -> str:
    """The chunk's text: a token's text, a tool's name, an error's message, [DONE]."""
    if frame.kind == "token":
        return str(frame.data.get("content", ""))
    if frame.kind == "tool_call":
        return str(frame.data.get("name", ""))
    if frame.kind == "error":
        return str(frame.data.get("message", ""))
    if frame.kind == "done":
        return DONE_MARK
    return str(frame.data.get("status", ""))


def new_task_id() -> str:
    return f"ait_{secrets.token_urlsafe(18)}"


def no_such_task() -> ApiError:
    return not_found("ai_task", "No such assistant task (or it expired)")


def task_page(
    task_id: str,
    status: str,
    shown: Sequence[ChunkOut],
    *,
    since: int,
    total: int,
    error: dict[str, Any] | None,
) -> TaskPage:
    """The answer of a poll: ``shown`` are the chunks after ``since`` of ``total``."""
    cursor = shown[-1].index if shown else min(since, total)
    done = status in ENDED
    return TaskPage(
        task_id=task_id,
        status=status,
        chunks=list(shown),
        is_done=done,
        done=done,
        next_cursor=cursor,
        next=cursor,
        error=error,
    )


@dataclass
class ChatTask:
    """This process's handle of a task it accepted: the turn's ``runner`` and what its
    frames said so far. ``emit`` is the turn's sink; ``on_chunk`` is where the store
    keeps each chunk (a list here, Redis elsewhere)."""

    task_id: str
    user_id: int
    on_chunk: Callable[[ChunkOut], None]
    status: str = "queued"  # queued | running | done | error
    error: dict[str, Any] | None = None
    count: int = 0
    ended_at: float | None = None
    runner: asyncio.Task[None] | None = None

    def emit(self, frame: Frame) -> None:
        if frame.kind == "status":
            self.status = "running"
        elif frame.kind == "error":
            self.error = frame.data
        elif frame.kind == "done":
            self.status = "error" if self.error else "done"
        metadata = {} if frame.kind == "token" else dict(frame.data)
        self.count += 1
        self.on_chunk(
            ChunkOut(
                index=self.count, kind=frame.kind, content=chunk_content(frame), metadata=metadata
            )
        )

    def stop(self, now: float) -> None:
        self.ended_at = now
        if self.status not in ENDED:
            self.status = "error"  # stopped without a done frame (shutdown)


class TaskStore(Protocol):
    async def new(self, user_id: int) -> ChatTask:
        """A queued task of the user, readable by ``page`` (in any process) on return."""
        ...

    async def ended(self, task: ChatTask) -> None:
        """The task's turn stopped (with or without ``done``); kept for the TTL from now."""
        ...

    def owned(self, user_id: int, task_id: str) -> ChatTask:
        """This process's handle of a task it accepted (404 otherwise)."""
        ...

    async def page(self, user_id: int, task_id: str, since: int) -> TaskPage:
        """The chunks after ``since``; 404 ``AI_TASK_NOT_FOUND`` for an unknown, expired
        or another user's task."""
        ...

    async def renew(self) -> None:
        """Renews the leases of this process's running tasks (the heartbeat)."""
        ...

    async def close(self) -> None:
        """Stops the turns still running (their tasks then read ``error``)."""
        ...


class LocalTasks:
    """The handles of the tasks this process accepted, forgotten ``ttl`` after they end."""

    def __init__(
        self,
        ttl_seconds: float,
        clock: Callable[[], float],
        on_forget: Callable[[str], object] = lambda _: None,
    ) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._on_forget = on_forget
        self._tasks: dict[str, ChatTask] = {}

    def add(self, task: ChatTask) -> ChatTask:
        self.forget_expired()
        self._tasks[task.task_id] = task
        return task

    def get(self, user_id: int, task_id: str) -> ChatTask:
        self.forget_expired()
        task = self._tasks.get(task_id)
        if task is None or task.user_id != user_id:
            raise no_such_task()
        return task

    def running(self) -> list[ChatTask]:
        return [t for t in self._tasks.values() if t.ended_at is None]

    def forget_expired(self) -> None:
        horizon = self.clock() - self.ttl
        for task_id in [
            t.task_id
            for t in self._tasks.values()
            if t.ended_at is not None and t.ended_at < horizon
        ]:
            del self._tasks[task_id]
            self._on_forget(task_id)

    async def close(self) -> None:
        running = [t.runner for t in self._tasks.values() if t.runner and not t.runner.done()]
        await cancel_and_wait(*running)


class MemoryTaskStore:
    """The tasks in this process's memory: a poll routed to another process answers 404."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._chunks: dict[str, list[ChunkOut]] = {}
        self._local = LocalTasks(ttl_seconds, clock, on_forget=self._chunks.pop)

    async def new(self, user_id: int) -> ChatTask:
        chunks: list[ChunkOut] = []
        task = self._local.add(ChatTask(new_task_id(), user_id, on_chunk=chunks.append))
        self._chunks[task.task_id] = chunks
        return task

    async def ended(self, task: ChatTask) -> None:
        task.stop(self._local.clock())

    def owned(self, user_id: int, task_id: str) -> ChatTask:
        return self._local.get(user_id, task_id)

    async def page(self, user_id: int, task_id: str, since: int) -> TaskPage:
        task = self._local.get(user_id, task_id)
        chunks = self._chunks[task.task_id]
        return task_page(
            task.task_id,
            task.status,
            chunks[since:],
            since=since,
            total=len(chunks),
            error=task.error,
        )

    async def renew(self) -> None:
        return None

    async def close(self) -> None:
        await self._local.close()
