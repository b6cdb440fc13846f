"""Heavy modules loaded at start-up, before the server answers anything.

``market.indicators`` imports ``scipy.signal`` only when it first computes, so that a
sandboxed program that never asks for an indicator does not pay for it. In the server
that first computation is a trader's first cycle: loading scipy there held the event loop
(and so every request) for 0.7-4 s. ``warm_up`` pays it during start-up instead, and runs
every indicator once so that their first-call costs are paid too, and configures the
ORM mappers, which the first query otherwise does (150 ms of the first cycle).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from sqlalchemy.orm import configure_mappers

from hyperoru.market import indicators
from hyperoru.market.regime import DEFAULT_RULES, classify_regime
from hyperoru.offload import off_loop

_BARS = DEFAULT_RULES.min_bars + 1


def warm_up() -> None:
    """Import what the first cycle would import and run it once (about a second, once)."""
    close = 100.0 + np.sin(np.arange(_BARS, dtype=np.float64) / 7.0)
    high, low = close + 1.0, close - 1.0
    indicators.macd(close)
    indicators.rsi(close)
    indicators.atr(high, low, close)
    classify_regime(high, low, close)
    configure_mappers()


@asynccontextmanager
async def warming_up() -> AsyncIterator[None]:
    """``warm_up`` on a worker thread while the block runs (start-up's database
    migrations), finished when the block ends: start-up takes the longer of the two
    rather than their sum."""
    warming = asyncio.ensure_future(off_loop(warm_up))
    try:
        yield
    finally:
        await warming
