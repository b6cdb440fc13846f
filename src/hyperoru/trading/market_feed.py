"""What the paper client knows about the market: engine snapshots and engine configs.

Marks come from the price cache, books and funding rates from the provider, assets from
the cache's metadata. The market is asked for on every call (not captured), so a test
or an operator can swap the market source of a running app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from hyperoru.errors import ApiError
from hyperoru.market.errors import as_api_error
from hyperoru.market.providers.base import AssetMeta, Candle, ProviderError, UnknownSymbol
from hyperoru.market.runtime import MarketRuntime
from hyperoru.trading.engine import (
    AssetSpec,
    BookLevel,
    EngineConfig,
    FeeSchedule,
    MarketSnapshot,
    OrderBook,
    TriggerFill,
    Venue,
)

_MINUTE = timedelta(minutes=1)
_FUNDING_LOOKBACK = timedelta(hours=8)


def market_unavailable(symbol: str) -> ApiError:
    return ApiError(
        503,
        "MARKET_DATA_UNAVAILABLE",
        f"No fresh price for {symbol}: the order was not executed",
        details={"symbol": symbol},
    )


def unknown_symbol(symbol: str) -> ApiError:
    return ApiError(422, "UNKNOWN_SYMBOL", f"{symbol} is not tradable", details={"symbol": symbol})


def venue_of(exchange: str) -> Venue:
    try:
        return Venue(exchange)
    except ValueError:
        return Venue.HYPERLIQUID


class MarketFeed:
    def __init__(self, market: Callable[[], MarketRuntime]) -> None:
        self._market = market
        # Engine configs are immutable; rebuilt only when the cache's asset table changes.
        self._configs: dict[
            tuple[int, Venue, FeeSchedule], tuple[dict[str, AssetMeta], EngineConfig]
        ] = {}

    @property
    def runtime(self) -> MarketRuntime:
        return self._market()

    async def asset(self, symbol: str) -> AssetMeta:
        try:
            return await self.runtime.cache.asset(symbol)
        except UnknownSymbol as exc:
            raise unknown_symbol(symbol) from exc
        except ProviderError as exc:
            raise as_api_error(exc) from exc

    async def config(self, exchange: str, fees: FeeSchedule | None = None) -> EngineConfig:
        """The trader's assets and fees: ``fees`` (the trader's override) or its venue's."""
        try:
            assets = await self.runtime.cache.assets()
        except ProviderError as exc:
            raise as_api_error(exc) from exc
        venue = venue_of(exchange)
        fees = fees or FeeSchedule.for_venue(venue)
        key = (id(assets), venue, fees)
        cached = self._configs.get(key)
        if cached is not None and cached[0] is assets:
            return cached[1]
        config = EngineConfig(
            assets={
                a.symbol: AssetSpec(a.symbol, a.sz_decimals, a.max_leverage, a.min_notional)
                for a in assets.values()
            },
            fees=fees,
            trigger_fill=TriggerFill.for_venue(venue),
        )
        self._configs = {key: (assets, config)}
        return config

    def cached_mark(self, symbol: str) -> Decimal | None:
        """The cached mark for read-only views (stale or not); ``None`` if never seen."""
        cached = self.runtime.cache.cached(symbol)
        return None if cached is None else cached.ticker.mark

    async def snapshot(self, symbol: str, *, with_funding: bool) -> MarketSnapshot:
        """A live snapshot to trade on. Raises 503 MARKET_DATA_UNAVAILABLE on a stale
        price: the engine must never fill against a price the venue has moved away from."""
        runtime = self.runtime
        try:
            price = await runtime.cache.price(symbol)
            if price.stale:
                raise market_unavailable(symbol)
            book = await runtime.provider.order_book(symbol)
            rate = None
            if with_funding:
                funding = await runtime.provider.funding_rate(symbol)
                rate = funding.rate / funding.interval_hours
        except UnknownSymbol as exc:
            raise unknown_symbol(symbol) from exc
        except ProviderError as exc:
            raise as_api_error(exc) from exc
        return MarketSnapshot(
            symbol=symbol,
            mark_price=price.ticker.mark,
            book=OrderBook(
                bids=tuple(BookLevel(lv.price, lv.size) for lv in book.bids if lv.size > 0),
                asks=tuple(BookLevel(lv.price, lv.size) for lv in book.asks if lv.size > 0),
            ),
            funding_rate=rate,
        )

    async def snapshots(
        self, symbols: Iterable[str], *, with_funding: bool
    ) -> dict[str, MarketSnapshot]:
        return {s: await self.snapshot(s, with_funding=with_funding) for s in sorted(set(symbols))}

    async def history(
        self, symbol: str, start: datetime, end: datetime
    ) -> tuple[list[Candle], list[tuple[datetime, Decimal]]]:
        """1-minute candles opening in [start, end) and the hourly funding rates in it,
        for catching up after downtime (see docs/PAPER_ENGINE.md, section 13)."""
        provider = self.runtime.provider
        candles: list[Candle] = []
        cursor = start
        while cursor < end:
            page = await provider.candles(symbol, "1m", cursor, end)
            if not page:
                break
            candles.extend(page)
            cursor = page[-1].open_time.replace(second=0, microsecond=0) + _MINUTE
        # From an hour before the window, so its first hour has a rate in force.
        history = await provider.funding_history(symbol, start - _FUNDING_LOOKBACK, end)
        rates = sorted((r.time, r.rate / r.interval_hours) for r in history)
        return candles, rates
