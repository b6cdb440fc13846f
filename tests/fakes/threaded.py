"""A loopback fake on an event loop of its own thread: for tests whose own thread blocks
(a real server subprocess started and killed by a synchronous test).

The fake's state belongs to its loop; the test reads and changes it only through
``call``, which runs a function there and hands back its result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

V = TypeVar("V")
R = TypeVar("R")
WAIT_SECONDS = 30


@dataclass
class ThreadedFake(Generic[V]):
    venue: V
    loop: asyncio.AbstractEventLoop

    def call(self, function: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        async def run() -> R:
            return function(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(WAIT_SECONDS)


@contextmanager
def in_thread(fake: Callable[[], AbstractAsyncContextManager[V]]) -> Iterator[ThreadedFake[V]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="loopback-fake", daemon=True)
    thread.start()
    context = fake()
    try:
        venue = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(WAIT_SECONDS)
        try:
            yield ThreadedFake(venue, loop)
        finally:
            asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(
                WAIT_SECONDS
            )
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT_SECONDS)
        loop.close()
