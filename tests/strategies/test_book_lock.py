"""A trader's check-and-place step is held by one cycle at a time, across processes on
PostgreSQL (two engines stand in for two processes) and within one on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from hyperoru.strategies.book_lock import BookLocks

# Long enough for a second holder to have got in if the lock did not stop it; the test
# asserts ordering, never a duration.
GRACE = 0.3


@pytest.fixture
async def two_processes(database_url: str) -> AsyncIterator[tuple[BookLocks, BookLocks]]:
    engines = [create_async_engine(database_url) for _ in range(2)]
    try:
        yield tuple(BookLocks(async_sessionmaker(e, class_=AsyncSession)) for e in engines)  # type: ignore[misc]
    finally:
        for engine in engines:
            await engine.dispose()


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


async def test_cycles_in_one_process_take_turns(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        locks = BookLocks(async_sessionmaker(engine, class_=AsyncSession))
        assert await _second_waits_for_first(locks, locks, other=1) == [
            "first in",
            "first out",
            "second in (1)",
        ]
    finally:
        await engine.dispose()
