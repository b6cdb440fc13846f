"""A trader's check-and-place step is held by one cycle at a time, across processes on
PostgreSQL (two engines stand in for two processes) and within one on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hyperoru.strategies.book_lock import BookLocks

# Long enough for a second holder to have got in if the lock did not stop it; the test
# asserts ordering, never a duration.
GRACE = 0.3


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """Two engines stand in for two processes."""
    made = [create_async_engine(database_url) for _ in range(2)]
    try:
        yield made
    finally:
        for engine in made:
            await engine.dispose()


@pytest.fixture
async def two_processes(engines: list[AsyncEngine]) -> AsyncIterator[tuple[BookLocks, BookLocks]]:
    locks = [BookLocks(async_sessionmaker(e, class_=AsyncSession)) for e in engines]
    try:
        yield locks[0], locks[1]
    finally:
        for lock in locks:
            await lock.close()


async def _second_waits_for_first(first: BookLocks, second: BookLocks, *, other: int) -> list[str]:
    events: list[str] = []
    entered = asyncio.Event()

    async def hold_first() -> None:
        async with first.hold(1):
            events.append("first in")
            entered.set()
            await asyncio.sleep(GRACE)
            events.append("first out")

    async def hold_second(account_id: int) -> None:
        await entered.wait()
        async with second.hold(account_id):
            events.append(f"second in ({account_id})")

    await asyncio.gather(hold_first(), hold_second(other))
    return events


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_other_processes_wait_for_the_same_trader_only(
    two_processes: tuple[BookLocks, BookLocks],
) -> None:
    first, second = two_processes
    same = await _second_waits_for_first(first, second, other=1)
    assert same == ["first in", "first out", "second in (1)"]
    different = await _second_waits_for_first(first, second, other=2)
    assert different == ["first in", "second in (2)", "first out"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_waiting_for_another_process_holds_no_connection_of_the_app_pool(
    engines: list[AsyncEngine], two_processes: tuple[BookLocks, BookLocks]
) -> None:
    """The waiter's own application pool stays free while it waits (the holder's step
    needs pooled connections of its own; a waiter holding them could starve it), and
    many cycles of different traders get through with only the few lock connections."""
    first, second = two_processes
    released = asyncio.Event()
    waiting_seen: list[int] = []

    async def holder() -> None:
        async with first.hold(7):
            released.clear()
            await asyncio.sleep(GRACE)
            waiting_seen.append(engines[1].pool.checkedout())
            released.set()

    async def waiter() -> str:
        await asyncio.sleep(GRACE / 3)
        async with second.hold(7):
            return "second in"

    async def others(account_id: int) -> int:
        async with second.hold(account_id):
            await asyncio.sleep(0)
            return account_id

    results = await asyncio.gather(holder(), waiter(), *(others(100 + i) for i in range(40)))
    assert waiting_seen == [0]
    assert results[1] == "second in"
    assert sorted(results[2:]) == [100 + i for i in range(40)]


async def test_cycles_in_one_process_take_turns(engines: list[AsyncEngine]) -> None:
    locks = BookLocks(async_sessionmaker(engines[0], class_=AsyncSession))
    try:
        assert await _second_waits_for_first(locks, locks, other=1) == [
            "first in",
            "first out",
            "second in (1)",
        ]
    finally:
        await locks.close()
