"""Closed candles kept in memory for decision cycles (``market.closed_candles``): a window
read once is answered from memory, without the database, until a read needs candles the
kept window does not hold. And the simulated market, now computed on worker threads,
gives the same prices however many threads ask at once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from hyperoru.market import klines
from hyperoru.market.closed_candles import ClosedCandles
from hyperoru.market.models import StoredCandle
from hyperoru.market.providers.base import Candle
from hyperoru.market.providers.sim.assets import SIM_ASSETS
from hyperoru.market.providers.sim.model import REFERENCE_DAY, PricePath
from hyperoru.market.providers.sim.provider import SimProvider

NOW = datetime(2026, 6, 1, 12, 20, 30, tzinfo=UTC)


async def _read(app: FastAPI, provider: SimProvider, memory: ClosedCandles, bars: int) -> list:
    window = klines.plan_window(interval="1h", start=None, end=NOW, limit=bars, now=NOW)
    async with app.state.services.sessionmaker() as session:
        candles = await klines.read_window(
            session, provider, symbol="ETH", interval="1h", window=window, now=NOW, memory=memory
        )
        await session.commit()
    return list(candles)


async def _stored(app: FastAPI) -> int:
    async with app.state.services.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(StoredCandle)) or 0


async def _forget_stored(app: FastAPI) -> None:
    async with app.state.services.sessionmaker() as session:
        await session.execute(delete(StoredCandle))
        await session.commit()


async def test_a_window_read_once_is_answered_from_memory(app: FastAPI) -> None:
    provider = SimProvider(seed=7, clock=lambda: NOW)
    memory = ClosedCandles()
    first = await _read(app, provider, memory, 50)
    assert len(first) == 50 and await _stored(app) == 49  # the forming candle is not stored
    await _forget_stored(app)
    # Read again with the table emptied: had it gone to the database, the candles would
    # have been fetched and stored again.
    assert await _read(app, provider, memory, 50) == first
    assert await _stored(app) == 0


async def test_a_window_reaching_beyond_the_kept_one_reads_the_database(app: FastAPI) -> None:
    provider = SimProvider(seed=7, clock=lambda: NOW)
    memory = ClosedCandles()
    first = await _read(app, provider, memory, 50)
    await _forget_stored(app)
    wider = await _read(app, provider, memory, 80)
    assert wider[-50:] == first and len(wider) == 80
    assert await _stored(app) == 79
    # The wider window is now the one kept.
    await _forget_stored(app)
    assert await _read(app, provider, memory, 80) == wider
    assert await _stored(app) == 0


def _candle(hour: int) -> Candle:
    one = Decimal(1)
    return Candle(datetime(2026, 1, 1, hour, tzinfo=UTC), one, one, one, one, one)


def test_memory_keeps_a_bounded_number_of_series() -> None:
    memory = ClosedCandles(max_series=2)
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 3, tzinfo=UTC)
    candles = [_candle(0), _candle(1), _candle(2)]
    for symbol in ("BTC", "ETH", "SOL"):
        memory.keep(("sim-7", symbol, "1h"), start, end, candles)
    assert memory.get(("sim-7", "BTC", "1h"), start, end) is None  # the oldest went
    assert memory.get(("sim-7", "SOL", "1h"), start, end) == candles
    # Inside the kept window: the candles of the part asked for; beyond it: nothing.
    assert memory.get(("sim-7", "SOL", "1h"), _candle(1).open_time, end) == candles[1:]
    later = datetime(2026, 1, 1, 4, tzinfo=UTC)
    assert memory.get(("sim-7", "SOL", "1h"), start, later) is None


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch after every few bytecodes, so unguarded caches would interleave."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_prices_from_many_threads_match_one_thread(frequent_thread_switches: None) -> None:
    asset = SIM_ASSETS[0]
    # Far from the reference day, so that every thread walks the daily anchors.
    days = [REFERENCE_DAY + 400 + offset for offset in range(24)]
    alone = PricePath(3, asset)
    expected = [alone.minute_bars(day).close for day in days]
    shared = PricePath(3, asset)
    with ThreadPoolExecutor(max_workers=8) as pool:
        computed = list(pool.map(lambda day: shared.minute_bars(day).close, days))
    for want, got in zip(expected, computed, strict=True):
        np.testing.assert_array_equal(got, want)
