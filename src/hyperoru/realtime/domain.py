"""The realtime domain: the server's event bus, the /ws hub and their background tasks.

Put first among the domains that publish or add /ws messages: its lifespan creates
``app.state.bus`` and ``app.state.ws_handlers`` before theirs run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from hyperoru.auth.session_changes import apply_announcement
from hyperoru.domain import Domain
from hyperoru.realtime.bus import open_event_bus
from hyperoru.realtime.events import AuthChangedEvent
from hyperoru.realtime.handlers import HandlerRegistry
from hyperoru.realtime.hub import Hub
from hyperoru.realtime.limits import CLOSE_GOING_AWAY, WsLimits
from hyperoru.realtime.messages import register_feed_messages
from hyperoru.realtime.price_feed import publish_prices
from hyperoru.realtime.router import public_router
from hyperoru.realtime.session_watch import watch_sessions


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    # Tests and benchmarks may tune the limits by setting this before start-up.
    limits: WsLimits = getattr(state, "ws_limits", None) or WsLimits()
    state.ws_limits = limits
    hub = Hub()
    registry = HandlerRegistry()
    register_feed_messages(registry)
    async with open_event_bus(state.settings) as bus:
        state.bus = bus
        state.ws_hub = hub
        state.ws_handlers = registry
        unsubscribe = bus.subscribe(hub.route)

        def on_auth_change(event: object) -> None:
            if isinstance(event, AuthChangedEvent):
                apply_announcement(state.token_cache, event)
                if event.revoked:
                    hub.close_sessions(user_id=event.user_id, session_ids=event.session_ids)

        unsubscribe_auth = bus.subscribe(on_auth_change)
        tasks = [
            asyncio.create_task(
                watch_sessions(
                    hub, state.sessionmaker, state.settings, limits.session_check_seconds
                ),
                name="ws-session-watch",
            ),
            asyncio.create_task(
                publish_prices(state, bus, limits.price_poll_seconds), name="ws-price-feed"
            ),
        ]
        try:
            yield
        finally:
            for connection in hub.connections():
                connection.close(CLOSE_GOING_AWAY, "server shutting down")
            unsubscribe()
            unsubscribe_auth()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task


DOMAIN = Domain(name="realtime", public_routers=(public_router,), lifespan=_lifespan)
