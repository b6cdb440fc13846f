"""The polling tasks and the stream slots, through the same test body in memory and in
Redis (assistant/tasks.py, redis_tasks.py, redis_slots.py); the clock is driven."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from hyperoru.assistant.agent import Frame
from hyperoru.assistant.limits import LocalStreamSlots, StreamSlots
from hyperoru.assistant.redis_slots import RedisStreamSlots
from hyperoru.assistant.redis_tasks import LEASE_SECONDS, RUNNER_LOST, RedisTaskStore
from hyperoru.assistant.schemas import TaskPage
from hyperoru.assistant.tasks import ChatTask, MemoryTaskStore, TaskStore
from hyperoru.errors import ApiError
from hyperoru.redis_connect import redis_client

TTL = 600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Stores:
    """Two processes' views of the same place (memory: one process, so the same store)."""

    clock: Clock
    tasks: TaskStore
    other_tasks: TaskStore
    slots: StreamSlots
    other_slots: StreamSlots


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = redis_client(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    clock = Clock()
    if request.param == "memory":
        tasks = MemoryTaskStore(TTL, clock)
        slots = LocalStreamSlots()
        yield Stores(clock, tasks, tasks, slots, slots)
        await tasks.close()
        return
    # Two clients: two processes' connections.
    first = redis_client(request.getfixturevalue("redis_url"))
    second = redis_client(request.getfixturevalue("redis_url"))
    one, two = RedisTaskStore(first, TTL, clock=clock), RedisTaskStore(second, TTL, clock=clock)
    try:
        yield Stores(
            clock,
            one,
            two,
            RedisStreamSlots(first, clock=clock),
            RedisStreamSlots(second, clock=clock),
        )
    finally:
        await one.close()
        await two.close()
        await first.aclose()
        await second.aclose()


def _token(text: str) -> Frame:
    return Frame("token", {"content": text})


async def _not_found(store: TaskStore, user_id: int, task_id: str) -> None:
    with pytest.raises(ApiError) as raised:
        await store.page(user_id, task_id, 0)
    assert raised.value.code == "AI_TASK_NOT_FOUND"


async def _turn(task: ChatTask, tokens: list[str]) -> None:
    task.emit(Frame("status", {"status": "started", "conversation_id": 7}))
    task.emit(_token(tokens[0]))
    await asyncio.sleep(0)  # the first write may leave while the rest is said
    for text in tokens[1:]:
        task.emit(_token(text))
    task.emit(Frame("done", {"conversation_id": 7, "tokens": 0}))


async def _page_through(store: TaskStore, user_id: int, task_id: str, step: int) -> list[TaskPage]:
    """Polls as a client does, following ``next_cursor`` a few chunks at a time."""
    pages, since = [], 0
    while True:
        page = await store.page(user_id, task_id, since)
        pages.append(page)
        assert page.next == page.next_cursor
        if page.is_done and not page.chunks:
            return pages
        # Only ``step`` of the chunks are "seen" before the next poll.
        seen = page.chunks[:step]
        since = seen[-1].index if seen else page.next_cursor


async def test_a_task_is_paged_through_from_any_process_with_working_cursors(
    stores: Stores,
) -> None:
    task = await stores.tasks.new(user_id=1)
    queued = await stores.other_tasks.page(1, task.task_id, 0)
    assert (queued.status, queued.chunks, queued.is_done, queued.next_cursor) == (
        "queued",
        [],
        False,
        0,
    )

    tokens = [f"t{i} " for i in range(100)]
    await _turn(task, tokens)
    await stores.tasks.ended(task)

    whole = await stores.other_tasks.page(1, task.task_id, 0)
    assert whole.status == "done" and whole.is_done and whole.done and whole.error is None
    assert [c.index for c in whole.chunks] == list(range(1, 103))
    assert [c.kind for c in whole.chunks] == ["status", *["token"] * 100, "done"]
    assert "".join(c.content for c in whole.chunks if c.kind == "token") == "".join(tokens)
    assert whole.chunks[0].metadata == {"status": "started", "conversation_id": 7}
    assert whole.chunks[-1].content == "[DONE]" and whole.next_cursor == 102

    pages = await _page_through(stores.other_tasks, 1, task.task_id, step=7)
    seen = []
    for page in pages:
        seen.extend(c for c in page.chunks[:7])
    assert seen == whole.chunks
    beyond = await stores.other_tasks.page(1, task.task_id, 500)
    assert beyond.chunks == [] and beyond.next_cursor == 102
    assert await stores.tasks.page(1, task.task_id, 0) == whole  # the accepting process agrees


async def test_an_error_frame_ends_the_task_as_error(stores: Stores) -> None:
    task = await stores.tasks.new(user_id=1)
    task.emit(Frame("status", {"status": "started", "conversation_id": 7}))
    failure = {"code": "UPSTREAM_ERROR", "message": "the model failed", "details": {}}
    task.emit(Frame("error", failure))
    task.emit(Frame("done", {"conversation_id": 7, "tokens": 0}))
    await stores.tasks.ended(task)

    page = await stores.other_tasks.page(1, task.task_id, 1)
    assert page.status == "error" and page.is_done and page.error == failure
    assert [(c.kind, c.content) for c in page.chunks] == [
        ("error", "the model failed"),
        ("done", "[DONE]"),
    ]


async def test_a_turn_stopped_without_done_reads_as_error(stores: Stores) -> None:
    task = await stores.tasks.new(user_id=1)
    task.emit(Frame("status", {"status": "started", "conversation_id": 7}))
    await stores.tasks.ended(task)  # shutdown cancelled it before its done frame

    page = await stores.other_tasks.page(1, task.task_id, 0)
    assert page.status == "error" and page.is_done and len(page.chunks) == 1


async def test_another_users_or_an_unknown_task_is_not_found(stores: Stores) -> None:
    task = await stores.tasks.new(user_id=1)
    await _turn(task, ["hello"])
    await stores.tasks.ended(task)

    await _not_found(stores.other_tasks, 2, task.task_id)
    await _not_found(stores.other_tasks, 1, "ait_nothing")
    with pytest.raises(ApiError):
        stores.tasks.owned(2, task.task_id)
    assert stores.tasks.owned(1, task.task_id) is task


async def test_an_ended_task_is_forgotten_after_the_ttl(stores: Stores) -> None:
    task = await stores.tasks.new(user_id=1)
    await _turn(task, ["hello"])
    await stores.tasks.ended(task)

    stores.clock.now += TTL - 1
    assert (await stores.other_tasks.page(1, task.task_id, 0)).status == "done"
    stores.clock.now += 2
    await _not_found(stores.other_tasks, 1, task.task_id)
    await _not_found(stores.tasks, 1, task.task_id)


async def test_a_running_task_is_not_forgotten(stores: Stores) -> None:
    task = await stores.tasks.new(user_id=1)
    task.emit(Frame("status", {"status": "started", "conversation_id": 7}))
    for _ in range(3):  # far past the TTL, its runner alive and renewing
        stores.clock.now += LEASE_SECONDS - 1
        await stores.tasks.renew()
    stores.clock.now += TTL
    await stores.tasks.renew()
    assert stores.tasks.owned(1, task.task_id) is task
    await stores.tasks.ended(task)


@pytest.fixture
async def redis_stores(redis: Redis) -> AsyncIterator[tuple[Clock, RedisTaskStore, RedisTaskStore]]:
    clock = Clock()
    one, two = RedisTaskStore(redis, TTL, clock=clock), RedisTaskStore(redis, TTL, clock=clock)
    yield clock, one, two
    await one.close()
    await two.close()


async def test_a_task_whose_process_died_reads_as_error_then_is_forgotten(
    redis_stores: tuple[Clock, RedisTaskStore, RedisTaskStore],
) -> None:
    clock, dying, other = redis_stores
    task = await dying.new(user_id=1)
    task.emit(Frame("status", {"status": "started", "conversation_id": 7}))
    task.emit(_token("half an ans"))
    await dying.renew()  # its last heartbeat; the process then dies mid-turn

    clock.now += LEASE_SECONDS - 1
    page = await other.page(1, task.task_id, 0)
    assert page.status == "running" and page.error is None and len(page.chunks) == 2
    clock.now += 2
    lost = await other.page(1, task.task_id, 0)
    assert lost.status == "error" and lost.is_done and lost.error == RUNNER_LOST
    assert [c.content for c in lost.chunks] == ["started", "half an ans"]
    clock.now += TTL - 2
    assert (await other.page(1, task.task_id, 0)).error == RUNNER_LOST
    clock.now += 2
    await _not_found(other, 1, task.task_id)


async def test_the_heartbeat_keeps_a_long_turn_alive(
    redis_stores: tuple[Clock, RedisTaskStore, RedisTaskStore],
) -> None:
    clock, running, other = redis_stores
    task = await running.new(user_id=1)
    task.emit(Frame("status", {"status": "started", "conversation_id": 7}))
    for _ in range(5):
        clock.now += LEASE_SECONDS - 1
        await running.renew()
        assert (await other.page(1, task.task_id, 0)).status == "running"
    await running.ended(task)


async def test_chunks_are_written_in_batches_not_one_round_trip_per_token(redis: Redis) -> None:
    class Counted(RedisTaskStore):
        writes = 0

        async def write(self, task: ChatTask, chunks_json: list[str]) -> None:
            self.writes += 1
            await super().write(task, chunks_json)

    store = Counted(redis, TTL)
    task = await store.new(user_id=1)
    for i in range(1000):  # a model streaming faster than one round trip a token
        task.emit(_token(f"{i} "))
    await store.ended(task)

    page = await store.page(1, task.task_id, 0)
    assert [c.content for c in page.chunks] == [f"{i} " for i in range(1000)]
    assert store.writes == 2  # the burst, then the end


async def test_the_redis_keys_are_named_after_the_database(redis: Redis) -> None:
    store = RedisTaskStore(redis, TTL)
    task = await store.new(user_id=1)
    task.emit(_token("x"))
    await store.ended(task)
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    keys = sorted(k.decode() for k in await redis.keys("hyperoru:*"))
    prefix = f"hyperoru:{db}:ai-task:{task.task_id}"
    assert keys == [prefix, f"{prefix}:chunks"]
    assert 0 < await redis.ttl(prefix) <= TTL + 1  # Redis forgets it without a poll


async def _refused(slots: StreamSlots, user_id: int, limit: int) -> None:
    with pytest.raises(ApiError) as raised:
        await slots.acquire(user_id, limit)
    assert raised.value.status == 429 and raised.value.code == "RATE_LIMITED"


async def test_stream_slots_are_limited_per_user_and_given_back(stores: Stores) -> None:
    await stores.slots.acquire(1, 2)
    await stores.other_slots.acquire(1, 2)
    await _refused(stores.slots, 1, 2)
    await _refused(stores.other_slots, 1, 2)
    await stores.slots.acquire(2, 2)  # another user has their own

    await stores.other_slots.release(1)
    await stores.slots.acquire(1, 2)
    await _refused(stores.other_slots, 1, 2)
    assert stores.slots.running(1) == 2


async def test_a_dead_process_slots_lapse_with_their_lease(redis: Redis) -> None:
    clock = Clock()
    dying, other = RedisStreamSlots(redis, clock=clock), RedisStreamSlots(redis, clock=clock)
    await dying.acquire(1, 1)
    clock.now += LEASE_SECONDS - 1
    await _refused(other, 1, 1)
    clock.now += 2  # no heartbeat came: the process is gone
    await other.acquire(1, 1)


async def test_a_live_process_keeps_its_slots_with_the_heartbeat(redis: Redis) -> None:
    clock = Clock()
    running, other = RedisStreamSlots(redis, clock=clock), RedisStreamSlots(redis, clock=clock)
    await running.acquire(1, 1)
    for _ in range(4):
        clock.now += LEASE_SECONDS - 1
        await running.renew()
        await _refused(other, 1, 1)
    await running.release(1)
    await other.acquire(1, 1)
    assert running.running(1) == 0 and other.running(1) == 1
