"""One trader's order step at a time, in every process.

A trader's cycles can overlap: its schedule, a binding's schedule and signal firings
each start one, and signal cycles run on whichever worker evaluates the pool, not
necessarily the worker holding the trader. Risk limits (open positions, notional) are
checked against the book and then orders placed; two cycles doing that at once could
both pass a limit that only one of them may use. So the check-and-place step holds:

- an ``asyncio.Lock`` per trader in this process, and
- on PostgreSQL, a session-level advisory lock on the trader, so that cycles in other
  server or worker processes wait too. It dies with its connection, also when the
  process dies mid-step.

The advisory lock never takes a connection of the application's pool. A blocking wait
there would hold a pooled connection while the holder it waits for needs pooled
connections of its own to place orders: enough waiters and the pool is exhausted by
connections that all wait on each other. Instead the lock lives on a small dedicated
pool (``book_lock_connections``, in autocommit, so no transaction stays open), is only
*tried* (``pg_try_advisory_lock``), and a cycle that finds it taken by another process
gives its connection back and tries again after a short backoff. A connection is held
only by the cycle that owns the lock, for its short check-and-place step; cycles of other
traders queue for one of the few lock connections without any timeout of the pool.

SQLite deployments are one process (the embedded default), where the first lock is
enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakValueDictionary

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# The first key of the two-key advisory lock form: the trader's book. The migration lock
# uses the one-key form, a separate key space.
BOOK_LOCK_NAMESPACE = 0x4859_4F42  # "HYOB"
DEFAULT_LOCK_CONNECTIONS = 4
FIRST_BACKOFF_SECONDS = 0.005
MAX_BACKOFF_SECONDS = 0.25


class BookLocks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        connections: int = DEFAULT_LOCK_CONNECTIONS,
    ) -> None:
        self._local: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()
        bind = sessions.kw.get("bind")
        self._engine: AsyncEngine | None = None
        if bind is not None and bind.dialect.name == "postgresql":
            self._engine = create_async_engine(
                bind.url,
                pool_size=connections,
                max_overflow=0,
                pool_pre_ping=True,
                isolation_level="AUTOCOMMIT",
            )
        # Waiting here instead of in the pool: no pool timeout can fail a queued cycle.
        self._connections = asyncio.Semaphore(connections)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    @asynccontextmanager
    async def hold(self, account_id: int) -> AsyncIterator[None]:
        local = self._local.setdefault(account_id, asyncio.Lock())
        async with local:
            if self._engine is None:
                yield
                return
            async with self._held_across_processes(self._engine, account_id):
                yield

    @asynccontextmanager
    async def _held_across_processes(
        self, engine: AsyncEngine, account_id: int
    ) -> AsyncIterator[None]:
        key = {"space": BOOK_LOCK_NAMESPACE, "account": account_id}
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            async with self._connections, engine.connect() as connection:
                taken = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:space, :account)"), key
                )
                if taken:
                    try:
                        yield
                    finally:
                        await self._unlock(connection, key)
                    return
            # Another process is placing this trader's orders: its step is short.
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)

    @staticmethod
    async def _unlock(connection: AsyncConnection, key: dict[str, int]) -> None:
        try:
            await asyncio.shield(
                connection.execute(text("SELECT pg_advisory_unlock(:space, :account)"), key)
            )
        except BaseException:
            # A connection we cannot unlock on must not go back to the pool still
            # holding the lock: dropping it ends its session, which releases the lock.
            await connection.invalidate()
            raise
