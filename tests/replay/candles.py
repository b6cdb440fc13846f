"""Deterministic candles for the replay tests: a seeded random walk, or bars by hand."""

from __future__ import annotations

import random
from collections.abc import Sequence

from hyperoru.replay.bars import Bars

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE_MS = 60_000
HOUR_MS = 3_600_000


def random_walk(
    count: int,
    *,
    seed: int = 7,
    start: float = 100.0,
    symbol: str = "BTC",
    step_ms: int = HOUR_MS,
    volatility: float = 0.01,
    gap: float = 0.0,
) -> Bars:
    """OHLC around a multiplicative random walk, prices rounded to 2 decimals (as a
    venue would print them) so their decimal form is short and exact. Each bar opens at
    the previous close unless ``gap`` is given."""
    rng = random.Random(seed)
    price = start
    times, opens, highs, lows, closes, volumes = [], [], [], [], [], []
    for k in range(count):
        # ``gap``: the spread of the jump from one close to the next open.
        open_ = round(price * (1 + rng.gauss(0, gap)) if gap else price, 2)
        close = round(max(1.0, price * (1 + rng.gauss(0, volatility))), 2)
        high = round(max(open_, close) * (1 + abs(rng.gauss(0, volatility / 3))), 2)
        low = round(min(open_, close) * (1 - abs(rng.gauss(0, volatility / 3))), 2)
        times.append(START_MS + k * step_ms)
        opens.append(open_)
        highs.append(high)
        lows.append(low)
        closes.append(close)
        volumes.append(round(rng.uniform(1, 100), 3))
        price = close
    return Bars(symbol, times, opens, highs, lows, closes, volumes)


def by_hand(
    rows: Sequence[tuple[float, float, float, float]],
    *,
    symbol: str = "BTC",
    step_ms: int = HOUR_MS,
    funding: Sequence[float | None] | None = None,
) -> Bars:
    """Bars from (open, high, low, close) rows, one per ``step_ms`` from START_MS."""
    return Bars(
        symbol,
        [START_MS + k * step_ms for k in range(len(rows))],
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [1.0] * len(rows),
        funding_rates=None if funding is None else list(funding),
    )
