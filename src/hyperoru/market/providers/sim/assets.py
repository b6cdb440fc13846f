"""The simulated universe: Hyperliquid-like metadata and per-asset market character."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SimAsset:
    symbol: str
    sz_decimals: int
    max_leverage: int
    # Price on the reference day (2026-01-01); the path wanders away from it and back.
    reference_price: float
    # Standard deviation of the daily log return in an ordinary regime.
    daily_volatility: float
    open_interest: float
    spread_bps: float
    # Notional (USD) resting at the best level; deeper levels hold more.
    depth_notional: float
    minute_volume: float


MIN_NOTIONAL = Decimal(10)

SIM_ASSETS: tuple[SimAsset, ...] = (
    SimAsset("BTC", 5, 40, 95_000.0, 0.025, 28_000.0, 0.5, 400_000.0, 12.0),
    SimAsset("ETH", 4, 25, 3_300.0, 0.035, 650_000.0, 0.8, 250_000.0, 300.0),
    SimAsset("SOL", 2, 20, 190.0, 0.050, 3_500_000.0, 1.5, 120_000.0, 2_500.0),
    SimAsset("BNB", 3, 10, 700.0, 0.030, 90_000.0, 2.0, 60_000.0, 150.0),
    SimAsset("DOGE", 0, 10, 0.32, 0.060, 900_000_000.0, 2.5, 80_000.0, 900_000.0),
    SimAsset("XRP", 0, 20, 2.2, 0.050, 80_000_000.0, 2.0, 90_000.0, 120_000.0),
    SimAsset("AVAX", 2, 10, 38.0, 0.055, 2_500_000.0, 3.0, 40_000.0, 4_000.0),
    SimAsset("LINK", 1, 10, 22.0, 0.050, 3_000_000.0, 3.0, 40_000.0, 6_000.0),
)
