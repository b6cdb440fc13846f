"""Revocation fan-out: a session change made in one process reaches every process.

Auth announces a ``SessionChange``; it travels the event bus as an ``AuthChangedEvent``;
every process (this one too) makes its token cache forget the sessions and, when they
were revoked, closes their sockets on the /ws hub.
"""

from __future__ import annotations

from hyperoru.auth.session_changes import Announcer, SessionChange, apply_announcement
from hyperoru.auth.token_cache import TokenCache
from hyperoru.realtime.bus import AnyEvent, EventBus, Unsubscribe
from hyperoru.realtime.events import AuthChangedEvent
from hyperoru.realtime.hub import Hub


def announcer_for(bus: EventBus) -> Announcer:
    async def announce(change: SessionChange) -> None:
        await bus.publish(
            AuthChangedEvent(
                user_id=change.user_id, session_ids=change.session_ids, revoked=change.revoked
            )
        )

    return announce


def follow_session_changes(bus: EventBus, cache: TokenCache, hub: Hub) -> Unsubscribe:
    """Subscribe this process to announced changes; returns the unsubscribe function."""

    def on_event(event: AnyEvent) -> None:
        if not isinstance(event, AuthChangedEvent):
            return
        change = SessionChange(
            user_id=event.user_id, session_ids=event.session_ids, revoked=event.revoked
        )
        apply_announcement(cache, change)
        if change.revoked:
            hub.close_sessions(user_id=change.user_id, session_ids=change.session_ids)

    return bus.subscribe(on_event)
