"""Answers of finished backtests kept in memory, so polling one costs no database trip.

A completed or failed backtest never changes again: its job only leaves that state by
being deleted. Its answer (for one set of included parts) is kept as the bytes sent,
with its owner and the owner's data version read before it was loaded. Deleting a
backtest bumps the owner's version (``hyperoru.db.versions``), so any process holding
the answer reloads and finds it gone; queued, running and cancelled backtests are
always read from the database (their progress moves).

The owner is checked on every hit: another user's id goes to the database, which
answers 403 or 404 as before. An answer is also kept at most ``ttl_seconds`` (as the
trader copies of ``trading/read_model.py``): that bounds what a write that bumps nothing
(a database restored or edited by hand) can leave behind.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from hyperoru.backtests.parts import Part
from hyperoru.db.versions import DataVersions
from hyperoru.jobs.models import JobStatus

# Statuses whose answer is final (see above). Cancelled is not: a worker still running
# the job may record its stop after the cancel.
FINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})
# An answer with its curve and trades is tens of kilobytes; this bounds the memory.
DEFAULT_MAX_ENTRIES = 1024
DEFAULT_TTL_SECONDS = 5.0

Key = tuple[int, frozenset[Part]]


@dataclass(frozen=True, slots=True)
class _Kept:
    owner_id: int
    version: Hashable
    body: bytes
    kept_at: float


class FinishedAnswers:
    def __init__(
        self,
        versions: DataVersions,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._versions = versions
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._kept: OrderedDict[Key, _Kept] = OrderedDict()

    async def version(self, user_id: int) -> Hashable:
        """Read before loading: an answer kept under it is dropped by any later change."""
        return await self._versions.current(user_id)

    async def get(self, *, user_id: int, backtest_id: int, parts: frozenset[Part]) -> bytes | None:
        key = (backtest_id, parts)
        kept = self._kept.get(key)
        if kept is None or kept.owner_id != user_id:
            return None
        expired = self._clock() - kept.kept_at > self._ttl
        if expired or kept.version != await self._versions.current(user_id):
            self._kept.pop(key, None)
            return None
        self._kept.move_to_end(key)
        return kept.body

    async def deleted(self, owner_id: int) -> None:
        """A backtest of ``owner_id`` was deleted (committed): every process drops it."""
        await self._versions.bump(owner_id)

    def keep(
        self,
        *,
        owner_id: int,
        version: Hashable,
        backtest_id: int,
        parts: frozenset[Part],
        status: str,
        body: bytes,
    ) -> None:
        if status not in FINAL:
            return
        self._kept[(backtest_id, parts)] = _Kept(owner_id, version, body, self._clock())
        self._kept.move_to_end((backtest_id, parts))
        while len(self._kept) > self._max_entries:
            self._kept.popitem(last=False)
