"""Deterministic synthetic candles for the factor tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from hyperoru.factors.bars import Bars, bars_from_arrays

START = datetime(2026, 1, 1, tzinfo=UTC)


def random_bars(symbols: int = 3, bars: int = 600, seed: int = 7) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (symbols, bars)), axis=1))
    open_ = close * np.exp(rng.normal(0, 0.003, (symbols, bars)))
    high = np.maximum(close, open_) * (1 + rng.uniform(0.0005, 0.01, (symbols, bars)))
    low = np.minimum(close, open_) * (1 - rng.uniform(0.0005, 0.01, (symbols, bars)))
    volume = rng.uniform(100, 1000, (symbols, bars))
    return bars_from_arrays(
        [f"S{i}" for i in range(symbols)],
        [START + timedelta(hours=i) for i in range(bars)],
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
    )
