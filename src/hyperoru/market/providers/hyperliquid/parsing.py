"""Hyperliquid info-API JSON → our market types. Venue field names stop here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from hyperoru.market.intervals import from_millis
from hyperoru.market.providers.base import (
    BOOK_DEPTH,
    AssetMeta,
    BookLevel,
    Candle,
    FundingRate,
    OrderBook,
)
from hyperoru.market.providers.shapes import decimal, integer, parses

# Hyperliquid refuses orders under $10 notional on every perp.
MIN_NOTIONAL = Decimal(10)


@dataclass(frozen=True, slots=True)
class AssetContext:
    """The per-asset live figures of ``metaAndAssetCtxs``."""

    mark: Decimal
    mid: Decimal | None
    funding: Decimal
    open_interest: Decimal


@parses("hyperliquid")
def meta_and_contexts(
    payload: Any,
) -> tuple[list[AssetMeta], dict[str, AssetContext]]:
    meta, contexts = payload[0], payload[1]
    universe = meta["universe"]
    if not isinstance(universe, list) or not isinstance(contexts, list):
        raise TypeError("universe and contexts must be lists")
    assets: list[AssetMeta] = []
    by_symbol: dict[str, AssetContext] = {}
    for entry, context in zip(universe, contexts, strict=False):
        if entry.get("isDelisted"):
            continue
        symbol = str(entry["name"])
        assets.append(
            AssetMeta(
                symbol=symbol,
                sz_decimals=integer(entry["szDecimals"]),
                max_leverage=integer(entry["maxLeverage"]),
                min_notional=MIN_NOTIONAL,
            )
        )
        mid = context.get("midPx")
        by_symbol[symbol] = AssetContext(
            mark=decimal(context["markPx"]),
            mid=None if mid is None else decimal(mid),
            funding=decimal(context["funding"]),
            open_interest=decimal(context["openInterest"]),
        )
    return assets, by_symbol


@parses("hyperliquid")
def all_mids(payload: Any) -> dict[str, Decimal]:
    # Spot pairs appear as "@<index>" keys; only perps concern us.
    return {str(k): decimal(v) for k, v in payload.items() if not str(k).startswith("@")}


def _levels(side: Any) -> tuple[BookLevel, ...]:
    return tuple(
        BookLevel(price=decimal(level["px"]), size=decimal(level["sz"]))
        for level in side[:BOOK_DEPTH]
    )


@parses("hyperliquid")
def l2_book(payload: Any, symbol: str) -> OrderBook:
    bids, asks = payload["levels"][0], payload["levels"][1]
    return OrderBook(
        symbol=symbol,
        bids=_levels(bids),
        asks=_levels(asks),
        time=from_millis(integer(payload["time"])),
    )


@parses("hyperliquid")
def candles(payload: Any) -> list[Candle]:
    if not isinstance(payload, list):
        raise TypeError("candleSnapshot must answer a list")
    return [
        Candle(
            open_time=from_millis(integer(row["t"])),
            open=decimal(row["o"]),
            high=decimal(row["h"]),
            low=decimal(row["l"]),
            close=decimal(row["c"]),
            volume=decimal(row["v"]),
        )
        for row in payload
    ]


@parses("hyperliquid")
def funding_history(payload: Any, symbol: str) -> list[FundingRate]:
    if not isinstance(payload, list):
        raise TypeError("fundingHistory must answer a list")
    return [
        FundingRate(
            symbol=symbol,
            rate=decimal(row["fundingRate"]),
            time=from_millis(integer(row["time"])),
            interval_hours=1,
        )
        for row in payload
    ]


def funding_now(symbol: str, context: AssetContext, now: datetime) -> FundingRate:
    return FundingRate(symbol=symbol, rate=context.funding, time=now, interval_hours=1)
