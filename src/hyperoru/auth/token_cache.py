"""A short-lived, per-process cache of verified tokens.

The token check is the one database read every authenticated request makes; caching it for
a few seconds is what keeps an authenticated route within reach of a bare one
(bench/README.md). Revocations made through this process forget the affected entries at
once; revocations made elsewhere (another process, the CLI) take effect within ``ttl``.

When an entry runs out, every request holding that token misses at once (a client with
many connections, or many clients of one script): ``lookup`` lets the first of them read
the database and the others wait for its answer, instead of all queueing on the database.
A load that a revocation overtook is returned to its callers but never cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from hyperoru.auth.principal import Principal, SessionInfo

Found = tuple[Principal, SessionInfo]


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    session: SessionInfo
    fresh_until: float


class TokenCache:
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Future[Found | None]] = {}
        # Bumped by every forget: a load that started before one must not be cached.
        self._generation = 0
        self._touching: set[int] = set()

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self, digest: str) -> tuple[Principal, SessionInfo] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.fresh_until <= self._clock():
            del self._entries[digest]
            return None
        return entry.principal, entry.session

    async def lookup(
        self, digest: str, load: Callable[[], Awaitable[Found | None]]
    ) -> Found | None:
        """The cached entry, else ``load()``'s answer, shared by every concurrent caller
        of the same digest. Active users' answers are cached."""
        found = self.get(digest)
        if found is not None:
            return found
        pending = self._loading.get(digest)
        if pending is None:
            # The generation is read now, not when the task first runs: a revocation in
            # between must still count as overtaking this load.
            pending = asyncio.ensure_future(self._load(digest, load, self._generation))
            self._loading[digest] = pending
            pending.add_done_callback(lambda _: self._loading.pop(digest, None))
        # Shielded: one caller giving up (a client hanging up) must not fail the others.
        return await asyncio.shield(pending)

    async def _load(
        self, digest: str, load: Callable[[], Awaitable[Found | None]], generation: int
    ) -> Found | None:
        found = await load()
        if found is not None and found[0].is_active and generation == self._generation:
            self.put(digest, *found)
        return found

    def claim_touch(self, session_id: int) -> bool:
        """True for the one caller that should write the session's ``last_used_at`` now;
        others skip it until ``touched`` releases the claim."""
        if session_id in self._touching:
            return False
        self._touching.add(session_id)
        return True

    def touched(self, session_id: int, digest: str, last_used_at: datetime | None) -> None:
        self._touching.discard(session_id)
        if last_used_at is not None:
            self.touch(digest, last_used_at)

    def put(self, digest: str, principal: Principal, session: SessionInfo) -> None:
        if not self.enabled:
            return
        if len(self._entries) >= self._max:
            # Dicts keep insertion order: drop the oldest entry.
            self._entries.pop(next(iter(self._entries)))
        self._entries[digest] = _Entry(principal, session, self._clock() + self._ttl)

    def touch(self, digest: str, last_used_at: datetime) -> None:
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = replace(
                entry, session=replace(entry.session, last_used_at=last_used_at)
            )

    def forget_session(self, session_id: int) -> None:
        self._forget(lambda entry: entry.session.id == session_id)

    def forget_user(self, user_id: int | None) -> None:
        """Forget one user's tokens, or everyone's when ``user_id`` is None."""
        if user_id is None:
            self._generation += 1
            self._entries.clear()
        else:
            self._forget(lambda entry: entry.principal.id == user_id)

    def _forget(self, matches: Callable[[_Entry], bool]) -> None:
        self._generation += 1
        for digest in [d for d, entry in self._entries.items() if matches(entry)]:
            del self._entries[digest]
