"""A deterministic market for trading tests: it implements the provider interface, and the
test sets every mark, funding rate and candle. Books sit 10 dollars either side of the
mark, 5 units deep, like the engine tests' ``quoted`` books, so fills land on mark ± 10."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.base import (
    AssetMeta,
    BookLevel,
    Candle,
    FundingRate,
    OpenInterest,
    OrderBook,
    Ticker,
    UnknownSymbol,
)
from hyperoru.market.runtime import MarketRuntime

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ASSETS = (
    AssetMeta("BTC", sz_decimals=5, max_leverage=40, min_notional=D(10)),
    AssetMeta("ETH", sz_decimals=4, max_leverage=25, min_notional=D(10)),
)


class TestClock:
    """The trading clock of the app under test; starts at 2026-01-01 00:00 UTC."""

    __test__ = False

    def __init__(self, start: datetime = T0) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> datetime:
        self.now = self.start + timedelta(minutes=minutes)
        return self.now


class ScriptedMarket:
    """Implements ``MarketDataProvider``; prices only change when the test says so."""

    name = "scripted"
    dataset = "scripted"
    candle_page_size = 1000

    def __init__(self, clock: TestClock) -> None:
        self._clock = clock
        self.marks: dict[str, Decimal] = {"BTC": D(50000), "ETH": D(3000)}
        self.funding: dict[str, Decimal] = {"BTC": D(0), "ETH": D(0)}
        self.candle_rows: dict[str, list[Candle]] = {}
        self.funding_rows: dict[str, list[FundingRate]] = {}
        self._cache_seconds = 0.0
        self.cache = PriceCache(
            self, symbols=("BTC", "ETH"), refresh_seconds=5, clock=lambda: self._cache_seconds
        )

    def runtime(self) -> MarketRuntime:
        return MarketRuntime(self, self.cache, "simulated")

    async def set(self, symbol: str, mark: int | str, funding: str | None = None) -> None:
        self.marks[symbol] = D(mark)
        if funding is not None:
            self.funding[symbol] = D(funding)
        assert await self.cache.refresh()

    def go_stale(self) -> None:
        """The cache's last refresh is now far in the past."""
        self._cache_seconds += 3600

    def _check(self, symbol: str) -> Decimal:
        if symbol not in self.marks:
            raise UnknownSymbol(symbol)
        return self.marks[symbol]

    async def assets(self) -> Sequence[AssetMeta]:
        return ASSETS

    async def tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        return {
            s: Ticker(
                s,
                self.marks[s],
                self.marks[s],
                self.marks[s] - 10,
                self.marks[s] + 10,
                self._clock(),
            )
            for s in symbols
            if s in self.marks
        }

    async def order_book(self, symbol: str) -> OrderBook:
        mark = self._check(symbol)
        return OrderBook(
            symbol, (BookLevel(mark - 10, D(5)),), (BookLevel(mark + 10, D(5)),), self._clock()
        )

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        assert interval == "1m"
        rows = [c for c in self.candle_rows.get(symbol, []) if start <= c.open_time < end]
        return rows[: self.candle_page_size]

    async def funding_rate(self, symbol: str) -> FundingRate:
        self._check(symbol)
        return FundingRate(symbol, self.funding[symbol], self._clock(), interval_hours=1)

    async def funding_history(
        self, symbol: str, start: datetime, end: datetime
    ) -> Sequence[FundingRate]:
        return [r for r in self.funding_rows.get(symbol, []) if start <= r.time < end]

    async def open_interest(self, symbol: str) -> OpenInterest:
        return OpenInterest(symbol, D(0), self._clock())

    async def aclose(self) -> None:
        return None
