"""The tick loop shared by the trader scheduler and the signal evaluator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any


async def tick_forever(
    tick: Callable[[], Awaitable[Any]],
    *,
    interval: Callable[[], float],
    stop: Callable[[], Awaitable[None]],
    log: logging.Logger,
    worker: str,
) -> None:
    """Call ``tick`` every ``interval()`` seconds until cancelled, then ``stop``. A failed
    tick (a database blip) is logged and the loop goes on: it must never end the runtime."""
    try:
        while True:
            try:
                await tick()
            except Exception:
                log.exception("tick failed", extra={"worker": worker})
            await asyncio.sleep(interval())
    finally:
        await stop()
