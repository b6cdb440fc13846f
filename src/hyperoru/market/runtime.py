"""The per-app market objects (``Services.market``): the provider and its price cache."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperoru.market.closed_candles import ClosedCandles
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.base import MarketDataProvider
from hyperoru.settings import Settings


@dataclass(frozen=True, slots=True)
class MarketRuntime:
    provider: MarketDataProvider
    cache: PriceCache
    # Reported on backfill jobs: "mainnet"/"testnet" for Hyperliquid, "mainnet" for
    # Binance, "simulated" for the sim.
    environment: str
    # Closed candles that decision cycles read, shared by every trader of this process.
    closed_candles: ClosedCandles = field(default_factory=ClosedCandles)


def market_environment(settings: Settings) -> str:
    if settings.market_data == "hyperliquid":
        return settings.hyperliquid_environment
    return "mainnet" if settings.market_data == "binance" else "simulated"
