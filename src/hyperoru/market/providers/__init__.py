"""Market-data providers behind one interface (``base.MarketDataProvider``)."""

from __future__ import annotations

import httpx

from hyperoru.market.providers.base import MarketDataProvider
from hyperoru.settings import Settings


def build_provider(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> MarketDataProvider:
    """The provider chosen by ``HYPERORU_MARKET_DATA`` (imports only the one in use)."""
    if settings.market_data == "hyperliquid":
        from hyperoru.market.providers.hyperliquid.provider import HyperliquidProvider

        return HyperliquidProvider(
            environment=settings.hyperliquid_environment,
            base_url=settings.hyperliquid_base_url,
            timeout=settings.market_http_timeout_seconds,
            transport=transport,
        )
    if settings.market_data == "binance":
        from hyperoru.market.providers.binance.provider import BinanceProvider

        return BinanceProvider(
            base_url=settings.binance_base_url,
            timeout=settings.market_http_timeout_seconds,
            transport=transport,
        )
    from hyperoru.market.providers.sim.provider import SimProvider

    return SimProvider(seed=settings.market_sim_seed)
