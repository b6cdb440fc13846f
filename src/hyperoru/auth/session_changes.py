"""Announcing that sessions ended or a user changed: this process's token cache forgets
at once, and every other process hears it on the event bus (when there is one) and does
the same, closing the sockets of revoked sessions. Without a bus (one process) the local
cache is the only one there is."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hyperoru.auth.token_cache import TokenCache
from hyperoru.realtime.events import AuthChangedEvent

log = logging.getLogger("hyperoru.auth")


class _Publisher(Protocol):
    async def publish(self, event: AuthChangedEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionChanges:
    cache: TokenCache
    # Read on every call: the bus is created after auth, by the realtime domain.
    bus: Callable[[], _Publisher | None] = lambda: None

    async def sessions_revoked(self, *, user_id: int, session_ids: Sequence[int]) -> None:
        for session_id in session_ids:
            self.cache.forget_session(session_id)
        await self._announce(AuthChangedEvent(user_id=user_id, session_ids=list(session_ids)))

    async def user_revoked(self, *, user_id: int | None) -> None:
        """Every session of one user (or of everyone) ended."""
        self.cache.forget_user(user_id)
        await self._announce(AuthChangedEvent(user_id=user_id))

    async def user_changed(self, *, user_id: int) -> None:
        """The user's details changed; their sessions stay valid."""
        self.cache.forget_user(user_id)
        await self._announce(AuthChangedEvent(user_id=user_id, revoked=False))

    async def _announce(self, event: AuthChangedEvent) -> None:
        bus = self.bus()
        if bus is None:
            return
        try:
            await bus.publish(event)
        except Exception:  # the change is committed; other processes catch up within the TTL
            log.exception("could not announce a session change")


def apply_announcement(cache: TokenCache, event: AuthChangedEvent) -> None:
    """What a process does with a change announced elsewhere (or by itself)."""
    if event.session_ids is None:
        cache.forget_user(event.user_id)
        return
    for session_id in event.session_ids:
        cache.forget_session(session_id)
