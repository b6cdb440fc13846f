"""Closed trades from the stored ledger: every fill and funding payment of one trader,
walked in order by the backtests' round-trip book (``replay.trips``), so a live trade
and a backtest trade are the same thing. Pure: the rows come in as plain values.

A trade is one position from flat back to flat; it belongs to the order that opened it
(its trigger type, decision and strategy) and to the period in which it closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hyperoru.replay.trips import RoundTrip, TripBook
from hyperoru.trading.engine import Fill, FundingPaid, Side
from hyperoru.trading.engine.enums import Liquidity

HUNDRED = Decimal(100)
UNATTRIBUTED = "unattributed"


@dataclass(frozen=True, slots=True)
class FillRow:
    id: int
    account_id: int
    order_id: int | None
    engine_order_id: str
    symbol: str
    side: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    realized_pnl: Decimal
    liquidity: str
    is_liquidation: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class FundingRow:
    account_id: int
    symbol: str
    time: datetime
    position_size: Decimal
    payment: Decimal


@dataclass(frozen=True, slots=True)
class Cause:
    """What an order was attributed to (``trading_orders``' attribution columns)."""

    trigger_type: str | None
    decision_id: int | None
    strategy_type: str | None
    prompt_id: int | None
    program_id: int | None
    binding_id: int | None


NO_CAUSE = Cause(None, None, None, None, None, None)


@dataclass(frozen=True, slots=True)
class Trade:
    account_id: int
    symbol: str
    side: str  # long | short
    quantity: Decimal  # the largest size the position reached
    entry_time: datetime
    exit_time: datetime | None  # None: still open
    entry_price: Decimal
    exit_price: Decimal | None
    entry_notional: Decimal
    exit_reason: str | None
    realized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    fill_ids: tuple[int, ...]
    opening_order_id: int | None
    cause: Cause

    @property
    def pnl(self) -> Decimal:
        """Net: realised PnL less every fee and the funding paid while it was open."""
        return self.realized_pnl - self.fees - self.funding

    @property
    def operation(self) -> str:
        """The side of the order that opened it: ``buy`` for a long, ``sell`` for a short."""
        return "buy" if self.side == "long" else "sell"

    @property
    def return_pct(self) -> Decimal | None:
        """Net PnL in percent of the notional the position was opened with."""
        if not self.entry_notional:
            return None
        return self.pnl / self.entry_notional * HUNDRED

    @property
    def duration_hours(self) -> float | None:
        if self.exit_time is None:
            return None
        return (self.exit_time - self.entry_time).total_seconds() / 3600.0

    @property
    def trigger_type(self) -> str:
        return self.cause.trigger_type or UNATTRIBUTED

    @property
    def strategy(self) -> str:
        """``prompt`` or ``program`` for a decision cycle's trade, ``manual`` for a trade
        opened by hand."""
        if self.cause.strategy_type:
            return self.cause.strategy_type
        return "manual" if self.cause.trigger_type == "manual" else UNATTRIBUTED


def _fill_event(row: FillRow) -> Fill:
    return Fill(
        fill_id=row.id,
        order_id=row.engine_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        liquidity=Liquidity(row.liquidity),
        realized_pnl=row.realized_pnl,
        time=row.time,
        is_liquidation=row.is_liquidation,
    )


def _funding_event(row: FundingRow) -> FundingPaid:
    return FundingPaid(
        symbol=row.symbol,
        time=row.time,
        position_size=row.position_size,
        mark_price=Decimal(0),
        rate=Decimal(0),
        payment=row.payment,
    )


def _trade(
    account_id: int,
    trip: RoundTrip,
    fills: Mapping[int, FillRow],
    causes: Mapping[int, Cause],
) -> Trade:
    opening = fills[trip.fill_ids[0]]
    exit_price = trip.exit_notional / trip.exit_quantity if trip.exit_quantity else None
    reason = trip.exit_reason
    return Trade(
        account_id=account_id,
        symbol=trip.symbol,
        side=trip.side,
        quantity=trip.max_size,
        entry_time=datetime.fromisoformat(trip.entry_time),
        exit_time=None if trip.exit_time is None else datetime.fromisoformat(trip.exit_time),
        entry_price=trip.entry_notional / trip.entry_quantity,
        exit_price=exit_price,
        entry_notional=trip.entry_notional,
        # The replay calls a decided close "signal"; here it may be any order.
        exit_reason="order" if reason == "signal" else reason,
        realized_pnl=trip.realized_pnl,
        fees=trip.fees,
        funding=trip.funding,
        fill_ids=tuple(trip.fill_ids),
        opening_order_id=opening.order_id,
        cause=causes.get(opening.order_id, NO_CAUSE) if opening.order_id else NO_CAUSE,
    )


def account_trades(
    account_id: int,
    fills: Iterable[FillRow],
    funding: Iterable[FundingRow],
    causes: Mapping[int, Cause],
) -> list[Trade]:
    """Every trade of one trader, closed ones in closing order, then the open ones.

    Events are walked by time; at one instant fills go before funding, so a payment
    settled at the minute a position closed still lands on that position's trade."""
    fill_rows = sorted(fills, key=lambda f: (f.time, f.id))
    by_id = {f.id: f for f in fill_rows}
    events: list[tuple[datetime, int, int, Fill | FundingPaid]] = [
        (f.time, 0, f.id, _fill_event(f)) for f in fill_rows
    ]
    events += [(p.time, 1, i, _funding_event(p)) for i, p in enumerate(funding)]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    book = TripBook()
    last_closed: dict[str, RoundTrip] = {}
    for time, kind, _, event in events:
        if kind == 1 and isinstance(event, FundingPaid) and event.symbol not in _open(book):
            # Settled on a position that closed at this very instant.
            trip = last_closed.get(event.symbol)
            if trip is not None and trip.exit_time == time.isoformat():
                trip.funding += event.payment
            continue
        book.record((event,), time.isoformat())
        if book.closed:
            last_closed[book.closed[-1].symbol] = book.closed[-1]
    trips = [*book.closed, *book.still_open()]
    return [_trade(account_id, trip, by_id, causes) for trip in trips]


def _open(book: TripBook) -> set[str]:
    return {trip.symbol for trip in book.still_open()}
