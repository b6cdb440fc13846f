"""Per-account serialisation inside one process.

Every state change of a trader runs under its lock, so two requests of one process never
interleave on one ledger (SQLite has no row locks; on PostgreSQL the lock also saves a
blocked connection per waiter). Across processes PostgreSQL's ``FOR UPDATE`` does the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AccountLocks:
    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, account_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(account_id, asyncio.Lock())
        self._users[account_id] = self._users.get(account_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            # Forget idle locks so the table stays as small as the set of busy traders.
            self._users[account_id] -= 1
            if not self._users[account_id]:
                del self._users[account_id]
                del self._locks[account_id]
