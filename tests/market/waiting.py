"""Wait for background work (the price refresher, the job runner) without timing asserts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    attempts: int = 400,
    pause: float = 0.05,
) -> T:
    """Call ``probe`` until ``accept`` holds; fail with the last value if it never does."""
    value = await probe()
    for _ in range(attempts):
        if accept(value):
            return value
        await asyncio.sleep(pause)
        value = await probe()
    raise AssertionError(f"condition never held; last value: {value!r}")
