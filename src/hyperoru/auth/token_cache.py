"""A short-lived, per-process cache of verified tokens.

The token check is the one database read every authenticated request makes; caching it for
a few seconds is what keeps an authenticated route within reach of a bare one
(bench/README.md). Revocations made through this process forget the affected entries at
once; revocations made elsewhere (another process, the CLI) take effect within ``ttl``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from hyperoru.auth.principal import Principal, SessionInfo


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
            self._entries.clear()
        else:
            self._forget(lambda entry: entry.principal.id == user_id)

    def _forget(self, matches: Callable[[_Entry], bool]) -> None:
        for digest in [d for d, entry in self._entries.items() if matches(entry)]:
            del self._entries[digest]
