"""The flows' place in the app: the /api/account routes and the revocation fan-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.flows.exchange_credentials_router import router as exchange_credentials_router
from hyperoru.flows.sessions import follow_session_changes
from hyperoru.flows.trader_aliases import router as trader_aliases_router
from hyperoru.flows.traders_router import router as traders_router
from hyperoru.services import services_of


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = services_of(app)
    unsubscribe = follow_session_changes(services.bus, services.token_cache, services.ws_hub)
    try:
        yield
    finally:
        unsubscribe()


DOMAIN = Domain(
    name="flows",
    protected_routers=(traders_router, trader_aliases_router, exchange_credentials_router),
    lifespan=_lifespan,
)
