"""Candles for the API: the window a request asks for, served from storage, gaps filled
from the provider, the forming candle read live (and never stored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.errors import validation_error
from hyperoru.market import candle_store
from hyperoru.market.closed_candles import ClosedCandles
from hyperoru.market.intervals import ceil_time, count_between, floor_time, open_times, step
from hyperoru.market.providers.base import Candle, MarketDataProvider

MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class KlineWindow:
    start: datetime
    end: datetime
    # True when the requested range held more than ``limit`` candles and was cut;
    # ``next_start`` is where the following page begins.
    capped: bool
    next_start: datetime | None


def plan_window(
    *, interval: str, start: datetime | None, end: datetime | None, limit: int, now: datetime
) -> KlineWindow:
    if start is not None and end is not None and end < start:
        raise validation_error("start must not be after end", "start")
    end = now if end is None else end
    if start is None:
        start = ceil_time(end, interval) - limit * step(interval)
    if count_between(start, end, interval) <= limit:
        return KlineWindow(start, end, capped=False, next_start=None)
    cut = ceil_time(start, interval) + limit * step(interval)
    return KlineWindow(start, cut, capped=True, next_start=cut)


async def fetch_span(
    provider: MarketDataProvider, symbol: str, interval: str, start: datetime, end: datetime
) -> list[Candle]:
    """Every candle the provider has in [start, end), page after page."""
    fetched: list[Candle] = []
    cursor = start
    while cursor < end:
        page = await provider.candles(symbol, interval, cursor, end)
        if not page:
            break
        fetched.extend(page)
        cursor = page[-1].open_time + step(interval)
    return fetched


async def read_window(
    session: AsyncSession,
    provider: MarketDataProvider,
    *,
    symbol: str,
    interval: str,
    window: KlineWindow,
    now: datetime,
    memory: ClosedCandles | None = None,
) -> Sequence[Candle]:
    """Stored candles of the window, missing closed ones fetched and stored first
    (flushed; the caller commits). With ``memory``, closed candles it holds are taken
    from there and those read are kept there."""
    closed_end = floor_time(now, interval)  # every candle opening before this has closed
    stored_end = min(window.end, closed_end)
    by_time: dict[datetime, Candle] = {}
    key = (provider.dataset, symbol, interval)
    held = memory.get(key, window.start, stored_end) if memory is not None else None
    if held is not None:
        by_time = {c.open_time: c for c in held}
    elif window.start < stored_end:
        stored = await candle_store.load_candles(
            session,
            dataset=provider.dataset,
            symbol=symbol,
            interval=interval,
            start=window.start,
            end=stored_end,
        )
        by_time = {c.open_time: c for c in stored}
        if len(stored) < count_between(window.start, stored_end, interval):
            missing = [
                t for t in open_times(window.start, stored_end, interval) if t not in by_time
            ]
            fetched = await fetch_span(
                provider, symbol, interval, missing[0], missing[-1] + step(interval)
            )
            closed = [c for c in fetched if c.open_time < closed_end]
            await candle_store.save_candles(
                session, dataset=provider.dataset, symbol=symbol, interval=interval, candles=closed
            )
            for candle in closed:
                by_time.setdefault(candle.open_time, candle)
        if memory is not None:
            memory.keep(key, window.start, stored_end, [by_time[t] for t in sorted(by_time)])
    if window.end > closed_end:
        live_start = max(window.start, closed_end)
        for candle in await provider.candles(symbol, interval, live_start, window.end):
            by_time.setdefault(candle.open_time, candle)
    return [by_time[t] for t in sorted(by_time)]
