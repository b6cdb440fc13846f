"""Where the assistant keeps what outlives a request, chosen once at start-up: the
polling tasks and the stream counts in this process's memory, or in Redis when the server
has one (several API processes then answer alike)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from hyperoru.assistant.limits import LocalStreamSlots, StreamSlots
from hyperoru.assistant.redis_slots import RedisStreamSlots
from hyperoru.assistant.redis_tasks import LEASE_SECONDS, RedisTaskStore
from hyperoru.assistant.tasks import MemoryTaskStore, TaskStore
from hyperoru.redis_connect import redis_client
from hyperoru.settings import Settings

# Leases are renewed three times a lease: one late or failed renewal loses nothing.
HEARTBEAT_SECONDS = LEASE_SECONDS / 3


@dataclass(frozen=True, slots=True)
class AssistantState:
    tasks: TaskStore
    slots: StreamSlots


@asynccontextmanager
async def open_assistant_state(
    settings: Settings, clock: Callable[[], float] = time.time
) -> AsyncIterator[AssistantState]:
    if not settings.redis_url:
        yield AssistantState(
            MemoryTaskStore(settings.assistant_task_ttl_seconds), LocalStreamSlots()
        )
        return
    redis = redis_client(settings.redis_url)
    try:
        yield AssistantState(
            RedisTaskStore(redis, settings.assistant_task_ttl_seconds, clock=clock),
            RedisStreamSlots(redis, clock=clock),
        )
    finally:
        await redis.aclose()
