"""Request and response bodies of /api/crypto and /api/klines."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperoru.api_types import JsonDecimal, RequestModel, ResponseModel, UtcTime
from hyperoru.market.imported import ImportResult
from hyperoru.market.price_cache import CachedPrice


class PriceOut(ResponseModel):
    symbol: str
    price: JsonDecimal = Field(description="Mid price")
    bid: JsonDecimal | None
    ask: JsonDecimal | None
    mark_price: JsonDecimal
    timestamp: UtcTime
    source: str
    stale: bool = Field(description="True when the feed is failing or the price is old")

    @classmethod
    def from_cached(cls, cached: CachedPrice) -> PriceOut:
        ticker = cached.ticker
        return cls(
            symbol=ticker.symbol,
            price=ticker.mid,
            bid=ticker.bid,
            ask=ticker.ask,
            mark_price=ticker.mark,
            timestamp=ticker.time,
            source=cached.source,
            stale=cached.stale,
        )


class AssetOut(ResponseModel):
    symbol: str
    sz_decimals: int
    max_leverage: int
    min_notional: JsonDecimal


class KlineOut(ResponseModel):
    timestamp: UtcTime = Field(description="Open time of the candle")
    open: JsonDecimal
    high: JsonDecimal
    low: JsonDecimal
    close: JsonDecimal
    volume: JsonDecimal


class CoverageOut(ResponseModel):
    symbol: str
    interval: str
    earliest: UtcTime
    latest: UtcTime
    total_candles: int


class ImportRemovedOut(ResponseModel):
    symbol: str
    interval: str | None = Field(description="The interval removed; null: every interval")
    removed: int = Field(description="Candles deleted")


class SupportedSymbolsOut(ResponseModel):
    symbols: list[str]


class BackfillRequest(RequestModel):
    """Both documented bodies: ``interval``/``start_date``/``end_date`` and
    ``period``/``start``/``end`` with ``exchange`` and ``environment``."""

    symbol: str = Field(min_length=1, max_length=32)
    interval: str | None = Field(default=None, max_length=8)
    period: str | None = Field(default=None, max_length=8)
    start_date: str | None = Field(default=None, max_length=64)
    start: str | None = Field(default=None, max_length=64)
    end_date: str | None = Field(default=None, max_length=64)
    end: str | None = Field(default=None, max_length=64)
    exchange: str | None = Field(default=None, max_length=32)
    environment: str | None = Field(default=None, max_length=16)


class BackfillJobOut(ResponseModel):
    id: int
    status: Literal["queued", "running", "completed", "failed"]
    symbol: str
    interval: str
    period: str
    exchange: str
    environment: str
    start: UtcTime
    end: UtcTime
    progress_pct: float
    rows_written: int
    attempts: int
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    error: str | None
    status_url: str


class ImportOut(ResponseModel):
    symbol: str
    interval: str
    candles: int = Field(description="Candles stored")
    first: UtcTime = Field(description="Open time of the first candle")
    last: UtcTime = Field(description="Open time of the last candle")
    replaced: int = Field(description="Candles of yours in that span that the file replaced")

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(
            symbol=result.symbol,
            interval=result.interval,
            candles=result.candles,
            first=result.first,
            last=result.last,
            replaced=result.replaced,
        )
