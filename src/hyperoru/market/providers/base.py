"""The one market-data interface every source implements, and the types it speaks.

Venue field names never cross this boundary: each venue package parses its JSON into
these types at the edge. Prices, sizes and rates are ``Decimal``; times are aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

BOOK_DEPTH = 20


class ProviderError(Exception):
    """Base of every failure a provider reports."""


class UnknownSymbol(ProviderError):
    def __init__(self, symbol: str) -> None:
        super().__init__(f"unknown symbol {symbol!r}")
        self.symbol = symbol


class MarketDataUnavailable(ProviderError):
    """The source cannot answer now (network, timeout, 5xx, rate limit or ban)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ProviderError):
    """The source answered, but with something we cannot use (bad shape, truncated body)."""


@dataclass(frozen=True, slots=True)
class AssetMeta:
    symbol: str
    sz_decimals: int
    max_leverage: int
    min_notional: Decimal


@dataclass(frozen=True, slots=True)
class Ticker:
    """Best prices for one asset at ``time``. ``bid``/``ask`` may be unknown."""

    symbol: str
    mid: Decimal
    mark: Decimal
    bid: Decimal | None
    ask: Decimal | None
    time: datetime


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids best (highest) first, asks best (lowest) first, at most ``BOOK_DEPTH`` each."""

    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    time: datetime


@dataclass(frozen=True, slots=True)
class Candle:
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    # Only on imported candles whose file carried it: the hourly funding rate in effect
    # at the open, as a backtest charges it (market candles take theirs from the
    # provider's funding history instead).
    funding_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FundingRate:
    """Rate per funding period (hourly on Hyperliquid, 8-hourly on Binance) at ``time``."""

    symbol: str
    rate: Decimal
    time: datetime
    interval_hours: int


@dataclass(frozen=True, slots=True)
class OpenInterest:
    symbol: str
    contracts: Decimal
    time: datetime


@runtime_checkable
class MarketDataProvider(Protocol):
    """A source of market data. Implementations: ``sim``, ``hyperliquid``, ``binance``."""

    # Shown to clients as the price ``source``.
    name: str
    # Key under which candles of this source are stored: two sources whose candles could
    # differ (testnet vs mainnet, two sim seeds) never share rows.
    dataset: str
    # Most candles one ``candles`` call returns; callers page by the last open time.
    candle_page_size: int

    async def assets(self) -> Sequence[AssetMeta]: ...

    async def tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        """Tickers for the known ones among ``symbols`` (unknown ones are left out)."""
        ...

    async def order_book(self, symbol: str) -> OrderBook: ...

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        """Candles opening in [start, end), oldest first, at most ``candle_page_size``,
        never one that opens in the future."""
        ...

    async def funding_rate(self, symbol: str) -> FundingRate: ...

    async def funding_history(
        self, symbol: str, start: datetime, end: datetime
    ) -> Sequence[FundingRate]: ...

    async def open_interest(self, symbol: str) -> OpenInterest: ...

    async def aclose(self) -> None: ...
