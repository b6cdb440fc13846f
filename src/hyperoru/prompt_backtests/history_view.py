"""One past moment as a ``CycleSource``: the prompt variables of a backtest snapshot are
computed by the live code (``strategies.variables``) from these facts.

Candles come from the candle store (or the provider) and are cut at the snapshot: only
candles that closed by then are shown, so no variable looks ahead. Prices, positions,
balance and fills are the replay's own at that moment.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.valuation import Valuation
from hyperoru.exchanges.base import BalanceReport, FillReport, PositionReport
from hyperoru.market.history import load_candles
from hyperoru.market.intervals import floor_time, step
from hyperoru.market.price_cache import CachedPrice
from hyperoru.market.providers.base import Candle, MarketDataProvider, Ticker, UnknownSymbol

# Candles read past the current snapshot in one go, when later snapshots will need them.
READ_AHEAD = 1000
SOURCE = "backtest"


@dataclass(slots=True)
class _Loaded:
    candles: list[Candle]
    opens: list[datetime]
    start: datetime
    end: datetime  # open times in [start, end) are loaded


class HistoryCandles:
    """Candles of any interval over a backtest, loaded in spans and cut per snapshot."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        provider: MarketDataProvider,
        *,
        last_moment: datetime,
        snapshot_step: timedelta,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._provider = provider
        self._last_moment = last_moment
        self._snapshot_step = snapshot_step
        self._loaded: dict[tuple[str, str], _Loaded] = {}

    async def closed_by(
        self, symbol: str, interval: str, bars: int, moment: datetime
    ) -> list[Candle]:
        """The last ``bars`` candles that closed by ``moment``, oldest first."""
        width = step(interval)
        first = floor_time(moment, interval) - bars * width
        until = floor_time(moment, interval)
        loaded = self._loaded.get((symbol, interval))
        if loaded is None or loaded.start > first or loaded.end < until:
            loaded = await self._load(symbol, interval, bars, first, until)
        stop = bisect.bisect_right(loaded.opens, moment - width)
        return loaded.candles[max(0, stop - bars) : stop]

    async def _load(
        self, symbol: str, interval: str, bars: int, first: datetime, until: datetime
    ) -> _Loaded:
        width = step(interval)
        end = until
        # Read ahead only when consecutive snapshots share candles (hourly candles for
        # 4-hour snapshots); minute candles for daily snapshots are read per snapshot.
        if bars * width >= self._snapshot_step:
            last = floor_time(self._last_moment, interval)
            end = max(until, min(last, until + READ_AHEAD * width))
        candles = await load_candles(
            self._sessionmaker,
            self._provider,
            symbol=symbol,
            interval=interval,
            start=first,
            end=end,
        )
        loaded = _Loaded(candles, [c.open_time for c in candles], first, end)
        self._loaded[(symbol, interval)] = loaded
        return loaded


@dataclass(frozen=True, slots=True)
class Ledger:
    """The replay's account at one moment, in the venue-neutral report types."""

    positions: list[PositionReport]
    balance: BalanceReport
    fills: list[FillReport]
    valuation: Valuation


class HistorySource:
    """``strategies.variables.CycleSource`` for one snapshot of a backtest."""

    def __init__(
        self,
        candles: HistoryCandles,
        *,
        moment: datetime,
        prices: Mapping[str, Decimal],
        ledger: Ledger,
    ) -> None:
        self._candles = candles
        self._moment = moment
        self._prices = prices
        self._ledger = ledger

    async def candles(self, symbol: str, interval: str, bars: int) -> Sequence[Candle]:
        return await self._candles.closed_by(symbol, interval, bars, self._moment)

    async def price(self, symbol: str) -> CachedPrice:
        price = self._prices.get(symbol)
        if price is None:
            raise UnknownSymbol(symbol)
        ticker = Ticker(symbol, mid=price, mark=price, bid=None, ask=None, time=self._moment)
        return CachedPrice(ticker=ticker, source=SOURCE, stale=False)

    async def positions(self) -> list[PositionReport]:
        return list(self._ledger.positions)

    async def balance(self) -> BalanceReport | None:
        return self._ledger.balance

    async def fills(self, limit: int) -> list[FillReport]:
        return list(self._ledger.fills[:limit])

    async def valuation(self) -> Valuation:
        return self._ledger.valuation
