"""Market data for the evaluator, cheap per tick: closed candles are read once per closed
candle (stored candles first, missing ones from the provider, see ``market.klines``) and
kept in memory; the live price comes from the price cache without waiting on the venue;
funding rate and open interest are asked of the provider at most once a minute."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.market import klines
from hyperoru.market.intervals import floor_time, step
from hyperoru.market.providers.base import Candle, ProviderError
from hyperoru.market.runtime import MarketRuntime
from hyperoru.signals.evaluator import Frame

log = logging.getLogger("hyperoru.signals")

SNAPSHOT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class _Closed:
    closed_end: datetime
    bars: int
    candles: tuple[Candle, ...]


class FrameSource:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        market: Callable[[], MarketRuntime],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._market = market
        self._clock = clock
        self._closed: dict[tuple[str, str, str], _Closed] = {}
        self._snapshots: dict[tuple[str, str, str], tuple[float, float]] = {}

    async def frame(
        self, symbol: str, interval: str, *, bars: int, snapshots: set[str], now: datetime
    ) -> Frame | None:
        """The symbol's frame, or None when there is no price for it right now."""
        market = self._market()
        cached = market.cache.cached(symbol)
        if cached is None:
            return None
        candles = await self._candles(market, symbol, interval, bars, now)
        values = {name: await self._snapshot(market, symbol, name) for name in sorted(snapshots)}
        present = {name: value for name, value in values.items() if value is not None}
        return Frame(candles, float(cached.ticker.mark), present)

    async def _candles(
        self, market: MarketRuntime, symbol: str, interval: str, bars: int, now: datetime
    ) -> tuple[Candle, ...]:
        closed_end = floor_time(now, interval)
        key = (market.provider.dataset, symbol, interval)
        held = self._closed.get(key)
        if held is not None and held.closed_end == closed_end and held.bars >= bars:
            return held.candles
        window = klines.KlineWindow(
            start=closed_end - bars * step(interval), end=closed_end, capped=False, next_start=None
        )
        try:
            async with self._sessions() as session:
                rows = await klines.read_window(
                    session,
                    market.provider,
                    symbol=symbol,
                    interval=interval,
                    window=window,
                    now=now,
                )
                await session.commit()
        except ProviderError as exc:
            log.debug("signal candles unavailable", extra={"symbol": symbol, "error": str(exc)})
            return held.candles if held is not None else ()
        candles = tuple(rows)
        self._closed[key] = _Closed(closed_end, bars, candles)
        return candles

    async def _snapshot(self, market: MarketRuntime, symbol: str, name: str) -> float | None:
        key = (market.provider.dataset, symbol, name)
        held = self._snapshots.get(key)
        if held is not None and self._clock() - held[0] < SNAPSHOT_SECONDS:
            return held[1]
        try:
            if name == "funding_rate":
                value = float((await market.provider.funding_rate(symbol)).rate)
            else:
                value = float((await market.provider.open_interest(symbol)).contracts)
        except ProviderError as exc:
            log.debug("signal snapshot unavailable", extra={"symbol": symbol, "error": str(exc)})
            return held[1] if held is not None else None
        self._snapshots[key] = (self._clock(), value)
        return value
