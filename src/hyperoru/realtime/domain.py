"""The realtime domain: the /ws hub's pushes, its background tasks and the feed's own
messages. The bus, hub and handler registry are shared services (``Services``), so
every domain may publish or add /ws messages whatever its place in ``DOMAINS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.realtime.bus import RedisEventBus
from hyperoru.realtime.limits import CLOSE_GOING_AWAY, WsLimits
from hyperoru.realtime.messages import register_feed_messages
from hyperoru.realtime.price_feed import publish_prices
from hyperoru.realtime.router import public_router
from hyperoru.realtime.session_watch import watch_sessions
from hyperoru.realtime.switch_user import register_switch_user
from hyperoru.stopping import cancel_and_wait


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    services = state.services
    # Tests and benchmarks may tune the limits by setting this before start-up.
    limits: WsLimits = getattr(state, "ws_limits", None) or WsLimits()
    state.ws_limits = limits
    hub = services.ws_hub
    register_feed_messages(services.ws_handlers)
    register_switch_user(services.ws_handlers)
    unsubscribe = services.bus.subscribe(hub.route)
    bus = services.bus
    if isinstance(bus, RedisEventBus):

        async def redis_probe() -> str:
            return "ok" if await bus.reachable() else "error"

        services.health_probes["redis"] = redis_probe
    tasks = [
        asyncio.create_task(
            watch_sessions(
                hub, services.sessionmaker, services.settings, limits.session_check_seconds
            ),
            name="ws-session-watch",
        ),
        asyncio.create_task(
            publish_prices(
                lambda: state.services.market.cache, services.bus, limits.price_poll_seconds
            ),
            name="ws-price-feed",
        ),
    ]
    try:
        yield
    finally:
        for connection in hub.connections():
            connection.close(CLOSE_GOING_AWAY, "server shutting down")
        unsubscribe()
        services.health_probes.pop("redis", None)
        await cancel_and_wait(*tasks)


DOMAIN = Domain(name="realtime", public_routers=(public_router,), lifespan=_lifespan)
