"""The market domain: the price cache's refresher, the market-data health line, candle
backfills and the /api/crypto and /api/klines routes. The provider and cache themselves
are shared services (``Services.market``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.jobs.runner import job_runner
from hyperoru.market.backfill import BACKFILL_KIND, backfill_handler
from hyperoru.market.router import crypto_router, klines_router
from hyperoru.stopping import cancel_and_wait


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services
    market = services.market
    cache = market.cache

    async def probe() -> str:
        return cache.status()

    services.health_probes["market_data"] = probe
    refresher = asyncio.create_task(cache.run(), name="market-price-refresh")
    try:
        async with job_runner(app) as runner:
            runner.register(BACKFILL_KIND, backfill_handler(market.provider, services.sessionmaker))
            yield
    finally:
        await cancel_and_wait(refresher)
        services.health_probes.pop("market_data", None)


DOMAIN = Domain(name="market", protected_routers=(crypto_router, klines_router), lifespan=_lifespan)
