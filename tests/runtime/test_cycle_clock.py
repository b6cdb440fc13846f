"""A cycle's time limit stops while the cycle waits its turn for the sandbox.

The event loop's clock is the test's: it moves only when the test moves it, so nothing
here waits on the wall clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hyperoru.runtime.cycle_clock import deadline, not_counted


class _LoopClock:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.now = loop.time()

    def __call__(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for _ in range(5):  # let due timers fire and the tasks they cancel finish
            await asyncio.sleep(0)


@pytest.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[_LoopClock]:
    loop = asyncio.get_running_loop()
    fake = _LoopClock(loop)
    monkeypatch.setattr(loop, "time", fake)
    yield fake


async def _cycle(work: asyncio.Event, turn: asyncio.Event, more: asyncio.Event) -> str:
    async with deadline(10):
        await work.wait()  # the cycle's own work: counted
        with not_counted():
            await turn.wait()  # waiting for a sandbox slot: not counted
        await more.wait()  # counted again, with what was left
    return "done"


async def test_a_wait_longer_than_the_limit_does_not_time_the_cycle_out(
    clock: _LoopClock,
) -> None:
    work, turn, more = asyncio.Event(), asyncio.Event(), asyncio.Event()
    cycle = asyncio.create_task(_cycle(work, turn, more))
    await clock.advance(0)  # the cycle starts: its 10 s run from here
    await clock.advance(6)
    work.set()
    await clock.advance(0)
    await clock.advance(500)  # far past the limit, all of it waiting for a turn
    assert not cycle.done()
    turn.set()
    await clock.advance(0)
    await clock.advance(3)  # 6 + 3 of its own: still within 10
    assert not cycle.done()
    more.set()
    assert await cycle == "done"


async def test_the_time_left_after_the_wait_still_runs_out(clock: _LoopClock) -> None:
    work, turn, more = asyncio.Event(), asyncio.Event(), asyncio.Event()
    cycle = asyncio.create_task(_cycle(work, turn, more))
    await clock.advance(0)  # the cycle starts: its 10 s run from here
    await clock.advance(6)
    work.set()
    await clock.advance(0)
    await clock.advance(100)
    turn.set()
    await clock.advance(0)
    await clock.advance(5)  # 6 + 5 of its own: over 10
    with pytest.raises(TimeoutError):
        await cycle


async def test_outside_a_cycle_not_counted_changes_nothing() -> None:
    with not_counted():
        await asyncio.sleep(0)
