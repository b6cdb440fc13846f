"""SQLite connections for the async engine: aiosqlite with a close that always ends.

aiosqlite (0.22) runs each connection in a worker thread fed by a queue; ``stop()``
queues a last item after which the thread exits. Its ``close()`` ends by queueing
another stop and waiting for the thread to answer it, so a ``close()`` that follows or
overlaps an earlier ``stop()`` waits for ever: the thread left at the first one.

SQLAlchemy does exactly that when a task is cancelled while it holds a connection: the
pool terminates the connection with a graceful ``close()`` in a shielded task and, as
the wait for it is cancelled too, a forced ``stop()``. The shielded task then never
finishes, and whatever waits for every task (a server's shutdown, ``asyncio.run``)
hangs with it. Cancelling a running backtest, or a client hanging up mid-request, is
enough. Here a connection stops once: a later ``stop()`` or ``close()`` has nothing to
wait for, because the thread closes the SQLite handle on its way out.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url

# aiosqlite's default: rows fetched per trip to the worker thread when iterating.
ITER_CHUNK_SIZE = 64


class StopOnceConnection(aiosqlite.Connection):
    _stop_requested = False

    def stop(self) -> asyncio.Future[Any] | None:
        if self._stop_requested:
            return None  # the thread already has its last item; nothing more will answer
        self._stop_requested = True
        return super().stop()

    async def close(self) -> None:
        if self._stop_requested:
            return
        await super().close()


def sqlite_connector(url: str) -> Callable[[], StopOnceConnection]:
    """What ``create_async_engine(async_creator=...)`` calls for a new connection to
    ``url``, opened with the arguments SQLAlchemy itself would derive from the URL."""
    parsed = make_url(url)
    dialect = parsed.get_dialect()()
    args, kwargs = dialect.create_connect_args(parsed)

    def connect() -> StopOnceConnection:
        connection = StopOnceConnection(partial(sqlite3.connect, *args, **kwargs), ITER_CHUNK_SIZE)
        # Like SQLAlchemy's own aiosqlite connect: a connection somebody forgot never
        # keeps the process from exiting.
        connection._thread.daemon = True
        return connection

    return connect
