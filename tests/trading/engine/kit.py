"""Builders for engine tests: canonical assets, books, snapshots and orders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hyperoru.trading.engine import (
    AccountState,
    AssetSpec,
    BookLevel,
    EngineConfig,
    MarketSnapshot,
    OrderBook,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
# BTC as on Hyperliquid: 5 size decimals, 40x max, so maintenance margin is 1/80 of notional.
BTC = AssetSpec("BTC", sz_decimals=5, max_leverage=40)
ETH = AssetSpec("ETH", sz_decimals=4, max_leverage=25)
CONFIG = EngineConfig.of(BTC, ETH)

Levels = Iterable[tuple[str | int, str | int]]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def market(
    symbol: str = "BTC",
    mark: str | int = 50000,
    *,
    bids: Levels = (),
    asks: Levels = (),
    funding_rate: str | None = None,
    low: str | int | None = None,
    high: str | int | None = None,
) -> MarketSnapshot:
    return MarketSnapshot(
        symbol=symbol,
        mark_price=D(mark),
        book=OrderBook(
            bids=tuple(BookLevel(D(p), D(s)) for p, s in bids),
            asks=tuple(BookLevel(D(p), D(s)) for p, s in asks),
        ),
        funding_rate=D(funding_rate) if funding_rate is not None else None,
        low=D(low) if low is not None else None,
        high=D(high) if high is not None else None,
    )


def quoted(mark: int, symbol: str = "BTC", **extra: str | None) -> dict[str, MarketSnapshot]:
    """A deep book 10 dollars either side of ``mark``: fills land exactly on mark +/- 10."""
    snapshot = market(
        symbol,
        mark,
        bids=[(mark - 10, 5)],
        asks=[(mark + 10, 5)],
        funding_rate=extra.get("funding_rate"),
    )
    return {symbol: snapshot}


def order(
    side: str,
    quantity: str,
    *,
    order_id: str = "o1",
    price: str | None = None,
    symbol: str = "BTC",
    leverage: int = 1,
    tif: str = "gtc",
    reduce_only: bool = False,
    take_profit: str | None = None,
    stop_loss: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        symbol=symbol,
        side=Side(side),
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=D(quantity),
        price=D(price) if price is not None else None,
        leverage=leverage,
        reduce_only=reduce_only,
        time_in_force=TimeInForce(tif),
        take_profit_price=D(take_profit) if take_profit is not None else None,
        stop_loss_price=D(stop_loss) if stop_loss is not None else None,
    )


def account(cash: str | int = 10000, max_leverage: int = 10) -> AccountState:
    return AccountState(cash=D(cash), max_leverage=max_leverage)
