"""Candles for factors, read through the market domain and turned into ``Bars`` off the
event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.factors.bars import Bars, bars_from_candles
from hyperoru.market.history import load_candles
from hyperoru.market.intervals import step
from hyperoru.market.providers.base import Candle, MarketDataProvider
from hyperoru.offload import off_loop
from hyperoru.timeutils import utcnow


async def load_bars(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    symbols: Sequence[str],
    interval: str,
    bars: int,
    now: datetime | None = None,
) -> Bars:
    """The last ``bars`` closed candles of each symbol (missing ones NaN)."""
    now = now or utcnow()
    start = now - step(interval) * (bars + 1)
    loaded: list[tuple[str, Sequence[Candle]]] = []
    for symbol in symbols:
        candles = await load_candles(
            sessionmaker, provider, symbol=symbol, interval=interval, start=start, end=now, now=now
        )
        loaded.append((symbol, candles[-bars:]))
        await asyncio.sleep(0)
    return await off_loop(bars_from_candles, loaded)
