"""The market domain: providers, the price cache and its refresher, candles, backfills."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.jobs.runner import job_runner
from hyperoru.market.backfill import BACKFILL_KIND, backfill_handler
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers import build_provider
from hyperoru.market.router import crypto_router, klines_router
from hyperoru.market.runtime import MarketRuntime
from hyperoru.settings import Settings


def _environment(settings: Settings) -> str:
    if settings.market_data == "hyperliquid":
        return settings.hyperliquid_environment
    return "mainnet" if settings.market_data == "binance" else "simulated"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    provider = build_provider(settings)
    cache = PriceCache(
        provider,
        symbols=settings.market_symbol_list,
        refresh_seconds=settings.market_refresh_seconds,
    )
    app.state.market = MarketRuntime(provider, cache, _environment(settings))

    async def probe() -> str:
        return cache.status()

    app.state.health_probes["market_data"] = probe
    refresher = asyncio.create_task(cache.run(), name="market-price-refresh")
    try:
        async with job_runner(app) as runner:
            runner.register(BACKFILL_KIND, backfill_handler(provider, app.state.sessionmaker))
            yield
    finally:
        refresher.cancel()
        with suppress(asyncio.CancelledError):
            await refresher
        app.state.health_probes.pop("market_data", None)
        await provider.aclose()


DOMAIN = Domain(name="market", protected_routers=(crypto_router, klines_router), lifespan=_lifespan)
