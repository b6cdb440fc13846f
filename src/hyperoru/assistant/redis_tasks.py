"""The polling tasks in Redis (``settings.redis_url``): any API process answers a poll of
a task another one accepted, the same way.

Per task a hash (``hyperoru:<db>:ai-task:<id>``: owner, status, error, lease, end time)
and a list of its chunks as JSON (``...:chunks``). Chunks are written behind the turn:
while one write is on its way, the tokens that arrive wait and go together in the next
one, so a fast answer costs a round trip per batch rather than per token, and a slow one
shows each token at once. Each write is one MULTI/EXEC of the new chunks with the status
they lead to, so a poll never sees ``done`` before the ``[DONE]`` chunk.

The process running a turn holds a lease on it, renewed by its heartbeat (``renew``) and
by every write. A turn whose lease ran out without an end (its process died) reads as
``error`` (``INTERNAL_ERROR``, ``details.reason = "runner_lost"``) and is forgotten the
TTL after its lease ended, like an ended one. Times are the wall clock of the writing and
the reading process (the clock is injected for tests). Independent of polls, the keys
carry a Redis expiry of lease + TTL, renewed only while the runner lives and cut to the
TTL at its end: a task whose process died is gone from Redis within lease + TTL of its
last heartbeat (the hard upper bound), whoever polls it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from hyperoru.assistant.schemas import ChunkOut, TaskPage
from hyperoru.assistant.tasks import (
    ENDED,
    ChatTask,
    LocalTasks,
    new_task_id,
    no_such_task,
    task_page,
)

log = logging.getLogger("hyperoru.assistant.tasks")

LEASE_SECONDS = 30.0

RUNNER_LOST: dict[str, Any] = {
    "code": "INTERNAL_ERROR",
    "message": "The server process running this turn stopped before it ended; "
    "send the message again",
    "details": {"reason": "runner_lost"},
}


def redis_prefix(redis: Redis, what: str) -> str:
    """Keys of this server's Redis database, as the event bus and data versions name theirs."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"hyperoru:{db}:{what}:"


class _Writer:
    """Writes a task's chunks behind its turn, a batch per round trip."""

    def __init__(self, store: RedisTaskStore, task: ChatTask) -> None:
        self._store = store
        self._task = task
        self._pending: list[str] = []
        self._flushing: asyncio.Task[None] | None = None

    def add(self, chunk: ChunkOut) -> None:
        self._pending.append(chunk.model_dump_json())
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._drain(), name="assistant-task-write")

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._store.write(self._task, batch)
            except (RedisError, OSError) as exc:
                self._pending[:0] = batch  # the next chunk, or the end, tries again
                log.warning(
                    "assistant task not written: Redis unavailable",
                    extra={"task_id": self._task.task_id, "error": type(exc).__name__},
                )
                return

    async def settle(self) -> None:
        """Waits for the write on its way (it fails rather than hangs: Redis errors)."""
        if self._flushing is not None:
            await self._flushing

    async def finish(self) -> None:
        await self.settle()
        batch, self._pending = self._pending, []
        try:
            await self._store.write(self._task, batch)
        except (RedisError, OSError) as exc:
            # Its lease runs out instead: pollers then read the task as lost.
            log.warning(
                "assistant task end not written: Redis unavailable",
                extra={"task_id": self._task.task_id, "error": type(exc).__name__},
            )


class RedisTaskStore:
    def __init__(
        self,
        redis: Redis,
        ttl_seconds: float,
        *,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = redis_prefix(redis, "ai-task")
        self._ttl = ttl_seconds
        self._lease = lease_seconds
        self._clock = clock
        self._local = LocalTasks(ttl_seconds, clock, on_forget=self._forget_writer)
        self._writers: dict[str, _Writer] = {}

    def _keys(self, task_id: str) -> tuple[str, str]:
        return f"{self._prefix}{task_id}", f"{self._prefix}{task_id}:chunks"

    def _forget_writer(self, task_id: str) -> None:
        self._writers.pop(task_id, None)

    def _expiry(self, task: ChatTask) -> int:
        """Seconds the keys outlive now in Redis (a backstop; reads apply the clock)."""
        return math.ceil(self._ttl if task.ended_at is not None else self._lease + self._ttl) + 1

    async def new(self, user_id: int) -> ChatTask:
        task = ChatTask(new_task_id(), user_id, on_chunk=lambda _: None)
        writer = _Writer(self, task)
        task.on_chunk = writer.add
        now = self._clock()
        state = self._keys(task.task_id)[0]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                state,
                mapping={
                    "user_id": user_id,
                    "status": task.status,
                    "error": "",
                    "lease_until": now + self._lease,
                    "ended_at": "",
                },
            )
            pipe.expire(state, self._expiry(task))
            await pipe.execute()
        self._writers[task.task_id] = writer
        return self._local.add(task)

    async def write(self, task: ChatTask, chunks_json: list[str]) -> None:
        """The new chunks and the status they lead to, in one transaction."""
        state, chunks = self._keys(task.task_id)
        fields: dict[FieldT, EncodableT] = {
            "status": task.status,
            "error": json.dumps(task.error, default=str) if task.error else "",
            "lease_until": self._clock() + self._lease,
        }
        if task.ended_at is not None:
            fields["ended_at"] = task.ended_at
        expiry = self._expiry(task)
        async with self._redis.pipeline(transaction=True) as pipe:
            if chunks_json:
                pipe.rpush(chunks, *chunks_json)
            pipe.hset(state, mapping=fields)
            pipe.expire(state, expiry)
            pipe.expire(chunks, expiry)
            await pipe.execute()

    async def ended(self, task: ChatTask) -> None:
        task.stop(self._clock())
        writer = self._writers.get(task.task_id)
        if writer is not None:
            await writer.finish()

    def owned(self, user_id: int, task_id: str) -> ChatTask:
        return self._local.get(user_id, task_id)

    async def page(self, user_id: int, task_id: str, since: int) -> TaskPage:
        state, chunks = self._keys(task_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(state)
            pipe.lrange(chunks, since, -1)
            pipe.llen(chunks)
            fields, shown, total = await pipe.execute()
        # (A hash without an owner is a lease renewed just after the key expired.)
        if b"user_id" not in fields or int(fields[b"user_id"]) != user_id:
            raise no_such_task()
        status = fields[b"status"].decode()
        error = json.loads(fields[b"error"]) if fields[b"error"] else None
        now = self._clock()
        if status in ENDED:
            ended_at = float(fields[b"ended_at"] or 0)
        else:
            ended_at = float(fields[b"lease_until"])
            if ended_at < now:  # the runner's process stopped renewing: it died
                status, error = "error", RUNNER_LOST
            else:
                ended_at = math.inf
        if ended_at < now - self._ttl:
            raise no_such_task()
        return task_page(
            task_id,
            status,
            [ChunkOut.model_validate_json(raw) for raw in shown],
            since=since,
            total=int(total),
            error=error,
        )

    async def renew(self) -> None:
        running = self._local.running()
        if not running:
            return
        # A renewal vouches for the chunks said before it: a task whose process dies
        # after it still shows them.
        await asyncio.gather(
            *(w.settle() for t in running if (w := self._writers.get(t.task_id)) is not None)
        )
        lease_until = self._clock() + self._lease
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for task in running:
                    state, chunks = self._keys(task.task_id)
                    pipe.hset(state, "lease_until", lease_until)
                    pipe.expire(state, self._expiry(task))
                    pipe.expire(chunks, self._expiry(task))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning(
                "assistant task leases not renewed: Redis unavailable",
                extra={"tasks": len(running), "error": type(exc).__name__},
            )

    async def close(self) -> None:
        await self._local.close()
