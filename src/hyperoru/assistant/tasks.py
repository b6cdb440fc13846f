"""The polling fallback: a chat turn run in the background, its frames kept as numbered
chunks that ``GET /api/ai-stream/{task_id}?since=`` pages through.

Tasks live in the memory of the process that accepted them (a poll routed to another
process answers 404) and are forgotten ``assistant_task_ttl_seconds`` after they end.
Task ids are unguessable; another user's id answers 404 like an unknown one.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperoru.assistant.agent import Frame
from hyperoru.assistant.schemas import ChunkOut, TaskPage
from hyperoru.errors import not_found
from hyperoru.stopping import cancel_and_wait

DONE_MARK = "[DONE]"


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


@dataclass
class ChatTask:
    task_id: str
    user_id: int
    status: str = "queued"  # queued | running | done | error
    chunks: list[ChunkOut] = field(default_factory=list)
    error: dict[str, Any] | None = None
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
        self.chunks.append(
            ChunkOut(
                index=len(self.chunks) + 1,
                kind=frame.kind,
                content=chunk_content(frame),
                metadata=metadata,
            )
        )

    def page(self, since: int) -> TaskPage:
        shown = self.chunks[since:]
        cursor = shown[-1].index if shown else min(since, len(self.chunks))
        done = self.status in ("done", "error")
        return TaskPage(
            task_id=self.task_id,
            status=self.status,
            chunks=shown,
            is_done=done,
            done=done,
            next_cursor=cursor,
            next=cursor,
            error=self.error,
        )


class TaskStore:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._tasks: dict[str, ChatTask] = {}
        self._ttl = ttl_seconds
        self._clock = clock

    def new(self, user_id: int) -> ChatTask:
        self._forget_expired()
        task = ChatTask(task_id=f"ait_{secrets.token_urlsafe(18)}", user_id=user_id)
        self._tasks[task.task_id] = task
        return task

    def ended(self, task: ChatTask) -> None:
        task.ended_at = self._clock()
        if task.status not in ("done", "error"):
            task.status = "error"  # stopped without a done frame (shutdown)

    def owned(self, user_id: int, task_id: str) -> ChatTask:
        self._forget_expired()
        task = self._tasks.get(task_id)
        if task is None or task.user_id != user_id:
            raise not_found("ai_task", "No such assistant task (or it expired)")
        return task

    def _forget_expired(self) -> None:
        horizon = self._clock() - self._ttl
        for task_id in [
            t.task_id
            for t in self._tasks.values()
            if t.ended_at is not None and t.ended_at < horizon
        ]:
            del self._tasks[task_id]

    async def close(self) -> None:
        running = [t.runner for t in self._tasks.values() if t.runner and not t.runner.done()]
        await cancel_and_wait(*running)
