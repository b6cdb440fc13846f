"""Announcing that sessions ended or a user changed: this process's token cache forgets
at once, and the change is handed to an announcer that tells every other process (see
``hyperoru.flows.sessions``: over the event bus, which also closes the sockets of revoked
sessions). Without an announcer (one process) the local cache is the only one there is.

Auth knows nothing of the bus: the announcer is passed in where the app is assembled."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hyperoru.auth.token_cache import TokenCache
from hyperoru.db.versions import DataVersions

log = logging.getLogger("hyperoru.auth")


@dataclass(frozen=True, slots=True)
class SessionChange:
    """What changed: ``user_id`` None means every user, ``session_ids`` None all of the
    user's sessions; ``revoked`` False means the sessions stay valid (details changed)."""

    user_id: int | None
    session_ids: list[int] | None = None
    revoked: bool = True


Announcer = Callable[[SessionChange], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SessionChanges:
    cache: TokenCache
    announce: Announcer | None = None
    # Cached profiles compare with it: bumped before the change's answer leaves.
    versions: DataVersions | None = None

    async def sessions_revoked(self, *, user_id: int, session_ids: Sequence[int]) -> None:
        for session_id in session_ids:
            self.cache.forget_session(session_id)
        await self._announce(SessionChange(user_id=user_id, session_ids=list(session_ids)))

    async def user_revoked(self, *, user_id: int | None) -> None:
        """Every session of one user (or of everyone) ended."""
        self.cache.forget_user(user_id)
        await self._announce(SessionChange(user_id=user_id))

    async def user_changed(self, *, user_id: int) -> None:
        """The user's details changed; their sessions stay valid."""
        self.cache.forget_user(user_id)
        if self.versions is not None:
            await self.versions.bump(user_id)
        await self._announce(SessionChange(user_id=user_id, revoked=False))

    async def _announce(self, change: SessionChange) -> None:
        if self.announce is None:
            return
        try:
            await self.announce(change)
        except Exception:  # the change is committed; other processes catch up within the TTL
            log.exception("could not announce a session change")


def apply_announcement(cache: TokenCache, change: SessionChange) -> None:
    """What a process does with a change announced elsewhere (or by itself)."""
    if change.session_ids is None:
        cache.forget_user(change.user_id)
        return
    for session_id in change.session_ids:
        cache.forget_session(session_id)
