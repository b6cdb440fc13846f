"""Binance USDⓈ-M futures JSON → our market types. Venue field names stop here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hyperoru.market.intervals import from_millis
from hyperoru.market.providers.base import (
    BOOK_DEPTH,
    AssetMeta,
    BookLevel,
    Candle,
    FundingRate,
    OpenInterest,
    OrderBook,
)
from hyperoru.market.providers.binance.symbols import coin_of
from hyperoru.market.providers.shapes import decimal, integer, parses

# Leverage brackets need a signed call; these are the venue's published maxima for the
# largest pairs and a conservative default for the rest (docs/MARKET_DATA.md).
_MAX_LEVERAGE = {"BTC": 125, "ETH": 100, "SOL": 100, "BNB": 75, "XRP": 75, "DOGE": 75}
_DEFAULT_MAX_LEVERAGE = 20
FUNDING_INTERVAL_HOURS = 8


@dataclass(frozen=True, slots=True)
class MarkInfo:
    mark: Decimal
    funding: Decimal
    time_ms: int


def _filter(filters: list[Any], kind: str) -> dict[str, Any] | None:
    return next((f for f in filters if f.get("filterType") == kind), None)


@parses("binance")
def exchange_info(payload: Any) -> list[AssetMeta]:
    assets: list[AssetMeta] = []
    for entry in payload["symbols"]:
        if (
            entry.get("contractType") != "PERPETUAL"
            or entry.get("status") != "TRADING"
            or entry.get("quoteAsset") != "USDT"
        ):
            continue
        coin = coin_of(str(entry["symbol"]))
        if coin is None:
            continue
        min_notional = _filter(entry.get("filters", []), "MIN_NOTIONAL")
        assets.append(
            AssetMeta(
                symbol=coin,
                sz_decimals=integer(entry["quantityPrecision"]),
                max_leverage=_MAX_LEVERAGE.get(coin, _DEFAULT_MAX_LEVERAGE),
                min_notional=decimal(min_notional["notional"]) if min_notional else Decimal(5),
            )
        )
    return assets


@parses("binance")
def request_weight_limit(payload: Any) -> int | None:
    for limit in payload.get("rateLimits", []):
        if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE":
            return integer(limit["limit"]) // max(1, integer(limit.get("intervalNum", 1)))
    return None


@parses("binance")
def premium_index(payload: Any) -> dict[str, MarkInfo]:
    rows = payload if isinstance(payload, list) else [payload]
    marks: dict[str, MarkInfo] = {}
    for row in rows:
        coin = coin_of(str(row["symbol"]))
        if coin is not None:
            funding = row.get("lastFundingRate") or "0"
            marks[coin] = MarkInfo(
                decimal(row["markPrice"]), decimal(funding), integer(row["time"])
            )
    return marks


@parses("binance")
def book_tickers(payload: Any) -> dict[str, tuple[Decimal, Decimal]]:
    rows = payload if isinstance(payload, list) else [payload]
    best: dict[str, tuple[Decimal, Decimal]] = {}
    for row in rows:
        coin = coin_of(str(row["symbol"]))
        if coin is not None:
            best[coin] = (decimal(row["bidPrice"]), decimal(row["askPrice"]))
    return best


def _levels(side: Any) -> tuple[BookLevel, ...]:
    return tuple(
        BookLevel(price=decimal(price), size=decimal(size)) for price, size in side[:BOOK_DEPTH]
    )


@parses("binance")
def depth(payload: Any, coin: str) -> OrderBook:
    return OrderBook(
        symbol=coin,
        bids=_levels(payload["bids"]),
        asks=_levels(payload["asks"]),
        time=from_millis(integer(payload.get("T") or payload["E"])),
    )


@parses("binance")
def klines(payload: Any) -> list[Candle]:
    if not isinstance(payload, list):
        raise TypeError("klines must answer a list")
    return [
        Candle(
            open_time=from_millis(integer(row[0])),
            open=decimal(row[1]),
            high=decimal(row[2]),
            low=decimal(row[3]),
            close=decimal(row[4]),
            volume=decimal(row[5]),
        )
        for row in payload
    ]


@parses("binance")
def funding_history(payload: Any, coin: str) -> list[FundingRate]:
    if not isinstance(payload, list):
        raise TypeError("fundingRate must answer a list")
    return [
        FundingRate(
            symbol=coin,
            rate=decimal(row["fundingRate"]),
            time=from_millis(integer(row["fundingTime"])),
            interval_hours=FUNDING_INTERVAL_HOURS,
        )
        for row in payload
    ]


@parses("binance")
def open_interest(payload: Any, coin: str) -> OpenInterest:
    return OpenInterest(
        symbol=coin,
        contracts=decimal(payload["openInterest"]),
        time=from_millis(integer(payload["time"])),
    )
