"""cancel_and_wait: the tasks' own cancel is expected, the caller's is never lost."""

from __future__ import annotations

import asyncio

import pytest

from hyperoru.stopping import cancel_and_wait


async def test_the_tasks_are_cancelled_and_waited_for() -> None:
    cleaned: list[str] = []

    async def worker(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits
            cleaned.append(name)

    tasks = [asyncio.create_task(worker(n)) for n in ("a", "b")]
    await asyncio.sleep(0)
    await cancel_and_wait(*tasks)
    assert all(t.cancelled() for t in tasks) and sorted(cleaned) == ["a", "b"]


async def test_a_cancel_of_the_caller_is_not_swallowed() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()  # takes its time to stop

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    stopper = asyncio.create_task(cancel_and_wait(task))
    await asyncio.sleep(0)
    stopper.cancel()  # the stopping itself is cancelled (a shutdown limit)
    with pytest.raises(asyncio.CancelledError):
        await stopper
    release.set()
    await asyncio.wait([task])


async def test_an_error_the_task_ended_with_is_raised() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(broken())
    await asyncio.wait([task])
    with pytest.raises(RuntimeError, match="boom"):
        await cancel_and_wait(task)
