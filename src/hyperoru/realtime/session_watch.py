"""Closes the sockets of sessions that stopped being valid (logout, logout-all, password
change, admin revoke, deactivation, expiry) within ``session_check_seconds``.

One query per check for all of this process's sockets, whatever their number. It reads
the same columns ``auth.service.resolve_token`` checks, without that function's
``last_used_at`` write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.auth.models import User, UserSession
from hyperoru.realtime.hub import Hub
from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from hyperoru.settings import Settings
from hyperoru.timeutils import as_utc, utcnow

log = logging.getLogger("hyperoru.realtime.ws")


async def live_session_ids(
    db: AsyncSession, settings: Settings, session_ids: Collection[int]
) -> set[int]:
    """The ids among ``session_ids`` whose session would still authenticate now."""
    if not session_ids:
        return set()
    now = utcnow()
    rows = await db.execute(
        select(UserSession.id, UserSession.created_at, UserSession.last_used_at)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.id.in_(list(session_ids)),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            User.is_active.is_(True),
        )
    )
    live: set[int] = set()
    idle_limit = timedelta(days=settings.session_idle_days) if settings.session_idle_days else None
    for session_id, created_at, last_used_at in rows:
        # Idle expiry is computed here rather than in SQL: SQLite has no interval type.
        if idle_limit is not None and now - as_utc(last_used_at or created_at) > idle_limit:
            continue
        live.add(session_id)
    return live


async def close_dead_sessions(
    hub: Hub, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int:
    """One check; returns how many sockets were told to close."""
    # Each socket's session as it was when asked: a socket that `switch_user`ed while the
    # query ran is judged on its new session at the next check, not on this answer.
    sockets = [(c, c.identity.session_id) for c in hub.connections() if not c.closing]
    if not sockets:
        return 0
    async with sessionmaker() as db:
        live = await live_session_ids(db, settings, {session_id for _, session_id in sockets})
    closed = 0
    for connection, session_id in sockets:
        if session_id not in live and connection.identity.session_id == session_id:
            connection.close(CLOSE_UNAUTHENTICATED, "session ended")
            closed += 1
    return closed


async def watch_sessions(
    hub: Hub, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, interval: float
) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await close_dead_sessions(hub, sessionmaker, settings)
        except Exception:
            # A database hiccup must not stop future checks.
            log.exception("websocket session check failed")
