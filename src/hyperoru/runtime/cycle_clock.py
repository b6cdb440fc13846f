"""A cycle's time limit that stops while the cycle waits its turn for a shared resource.

``runtime.scheduler`` runs every counted cycle under ``deadline(seconds)``; code deep in
the cycle that queues for something other users share (the program sandbox's slots)
wraps that wait in ``not_counted()``. The clock stops for the wait and goes on with
what was left afterwards, so a trader whose cycle waited behind other users' programs
is never failed, and never paused, for their load: only its own work counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar


class _Deadline:
    def __init__(self, timeout: asyncio.Timeout) -> None:
        self._timeout = timeout
        self._waits = 0
        self._left = 0.0

    def pause(self) -> None:
        if self._waits == 0:
            when = self._timeout.when()
            if when is None or self._timeout.expired():
                self._waits += 1
                return
            loop = asyncio.get_running_loop()
            self._left = max(0.0, when - loop.time())
            self._reschedule(None)
        self._waits += 1

    def resume(self) -> None:
        self._waits -= 1
        if self._waits == 0 and not self._timeout.expired():
            self._reschedule(asyncio.get_running_loop().time() + self._left)

    def _reschedule(self, when: float | None) -> None:
        # RuntimeError: the cycle already ended (a task it left behind is still waiting).
        with suppress(RuntimeError):
            self._timeout.reschedule(when)


_current: ContextVar[_Deadline | None] = ContextVar("hyperoru_cycle_deadline", default=None)


@asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Like ``asyncio.timeout(seconds)`` (``TimeoutError`` when it runs out), except for
    the time spent inside ``not_counted()``."""
    async with asyncio.timeout(seconds) as timeout:
        token = _current.set(_Deadline(timeout))
        try:
            yield
        finally:
            _current.reset(token)


@contextmanager
def not_counted() -> Iterator[None]:
    """The enclosing cycle's clock (if any) stops while this block runs."""
    current = _current.get()
    if current is None:
        yield
        return
    current.pause()
    try:
        yield
    finally:
        current.resume()
