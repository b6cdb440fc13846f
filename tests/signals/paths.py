"""Constructed price paths and candle helpers for the signal tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from hyperoru.market.providers.base import Candle

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# A steady rise from 100 to 200 over 100 bars, then 28 bars falling 0.5 each (to 186):
# RSI(14) sinks below 30 during the fall while the price stays just under its EMA(50),
# so a small uptick crosses above the EMA with the RSI still below 30. The user story's
# "RSI(14) < 30 AND price crosses above EMA(50)" holds on the uptick and nowhere before.
RISE = [float(x) for x in np.linspace(100, 200, 101)]
FALL = [200 - 0.5 * k for k in range(1, 29)]
OVERSOLD_PATH = RISE + FALL
UPTICK = 186.6


def candles(
    closes: Sequence[float],
    *,
    volumes: Sequence[float] | None = None,
    opens: Sequence[float] | None = None,
    start: datetime = T0,
    step: timedelta = timedelta(hours=1),
) -> list[Candle]:
    """Candles with the given closes (open = close unless given; high/low span both)."""
    rows = []
    for i, close in enumerate(closes):
        open_ = opens[i] if opens is not None else close
        volume = volumes[i] if volumes is not None else 1.0
        rows.append(
            Candle(
                start + i * step,
                Decimal(str(open_)),
                Decimal(str(max(open_, close))),
                Decimal(str(min(open_, close))),
                Decimal(str(close)),
                Decimal(str(volume)),
            )
        )
    return rows
