"""Candle files for the import tests: a deterministic hourly walk, as CSV text."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hyperoru.market.providers.base import Candle

START = datetime(2026, 1, 1, tzinfo=UTC)


def hourly_walk(count: int = 120, *, seed: int = 7, start: datetime = START) -> list[Candle]:
    """``count`` hourly candles of a seeded random walk around 2.5, with four decimals,
    sane OHLC and whole volumes: the kind of file a user exports from a data vendor."""
    rng = random.Random(seed)
    price = Decimal("2.5")
    candles = []
    for hour in range(count):
        opened = price
        closed = max(Decimal("0.1"), opened * Decimal(1 + rng.uniform(-0.03, 0.03))).quantize(
            Decimal("0.0001")
        )
        high = (max(opened, closed) * Decimal(1 + rng.uniform(0, 0.01))).quantize(Decimal("0.0001"))
        low = (min(opened, closed) * Decimal(1 - rng.uniform(0, 0.01))).quantize(Decimal("0.0001"))
        volume = Decimal(rng.randint(100, 5000))
        candles.append(Candle(start + timedelta(hours=hour), opened, high, low, closed, volume))
        price = closed
    return candles


def as_csv(candles: list[Candle], *, header: str = "timestamp,open,high,low,close,volume") -> str:
    lines = [header] if header else []
    for c in candles:
        stamp = c.open_time.isoformat().replace("+00:00", "Z")
        lines.append(f"{stamp},{c.open},{c.high},{c.low},{c.close},{c.volume}")
    return "\n".join(lines) + "\n"
