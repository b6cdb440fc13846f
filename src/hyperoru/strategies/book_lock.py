"""One trader's order step at a time, in every process.

A trader's cycles can overlap: its schedule, a binding's schedule and signal firings
each start one, and signal cycles run on whichever worker evaluates the pool, not
necessarily the worker holding the trader. Risk limits (open positions, notional) are
checked against the book and then orders placed; two cycles doing that at once could
both pass a limit that only one of them may use. So the check-and-place step holds:

- an ``asyncio.Lock`` per trader in this process, and
- on PostgreSQL, a transaction-scoped advisory lock on the trader, so that cycles in
  other server or worker processes wait too. It is released by the transaction's end,
  also when the process dies mid-step.

SQLite deployments are one process (the embedded default), where the first lock is
enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakValueDictionary

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# The first key of the two-key advisory lock form: the trader's book. The migration lock
# uses the one-key form, a separate key space.
BOOK_LOCK_NAMESPACE = 0x4859_4F42  # "HYOB"


class BookLocks:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._local: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()
        bind = sessions.kw.get("bind")
        self._postgres = bind is not None and bind.dialect.name == "postgresql"

    @asynccontextmanager
    async def hold(self, account_id: int) -> AsyncIterator[None]:
        local = self._local.setdefault(account_id, asyncio.Lock())
        async with local:
            if not self._postgres:
                yield
                return
            async with self._sessions() as session, session.begin():
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:space, :account)"),
                    {"space": BOOK_LOCK_NAMESPACE, "account": account_id},
                )
                yield
