"""The per-app market objects, kept on ``app.state.market`` by the domain's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperoru.market.closed_candles import ClosedCandles
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.base import MarketDataProvider


@dataclass(frozen=True, slots=True)
class MarketRuntime:
    provider: MarketDataProvider
    cache: PriceCache
    # Reported on backfill jobs: "mainnet"/"testnet" for Hyperliquid, "mainnet" for
    # Binance, "simulated" for the sim.
    environment: str
    # Closed candles that decision cycles read, shared by every trader of this process.
    closed_candles: ClosedCandles = field(default_factory=ClosedCandles)
