"""Round trips: the fills and funding of one position from flat back to flat.

A flip (an opposite fill larger than the position) closes one round trip and opens the
next with the remainder; its fee is shared in proportion to the two parts. A round trip
still open at the end is listed with ``exit_time`` null and not counted in the metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hyperoru.trading.engine import Event, Fill, FundingPaid, Side
from hyperoru.trading.engine.money import ZERO, average_price, money

_EXIT_REASONS = {":tp": "take_profit", ":sl": "stop_loss"}


def plain(value: Decimal) -> str:
    """Fixed-point text (``"0.00000000"``, never ``"0E-8"``): the canonical number form."""
    return format(value, "f")


def _exit_reason(fill: Fill) -> str:
    if fill.is_liquidation:
        return "liquidation"
    return _EXIT_REASONS.get(fill.order_id[-3:], "signal")


@dataclass(slots=True)
class RoundTrip:
    symbol: str
    side: str  # "long" or "short"
    entry_time: str
    open_size: Decimal = ZERO
    max_size: Decimal = ZERO
    entry_quantity: Decimal = ZERO
    entry_notional: Decimal = ZERO
    exit_quantity: Decimal = ZERO
    exit_notional: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    fill_ids: list[int] = field(default_factory=list)
    exit_time: str | None = None
    exit_reason: str | None = None

    @property
    def pnl(self) -> Decimal:
        """Net: realised PnL less fees and funding paid."""
        return self.realized_pnl - self.fees - self.funding

    def as_dict(self) -> dict[str, Any]:
        exit_price = (
            average_price(self.exit_notional / self.exit_quantity) if self.exit_quantity else None
        )
        return {
            "symbol": self.symbol,
            "side": self.side,
            "quantity": plain(self.max_size),
            "entry_time": self.entry_time,
            "entry_price": plain(average_price(self.entry_notional / self.entry_quantity)),
            "exit_time": self.exit_time,
            "exit_price": None if exit_price is None else plain(exit_price),
            "exit_reason": self.exit_reason,
            "realized_pnl": plain(self.realized_pnl),
            "fees": plain(self.fees),
            "funding": plain(self.funding),
            "pnl": plain(self.pnl),
            "fill_ids": list(self.fill_ids),
        }


class TripBook:
    """Turns the engine's fills and funding payments into round trips, in order."""

    def __init__(self) -> None:
        self.closed: list[RoundTrip] = []
        # Every fill in order: decided orders, take-profits, stop-losses, liquidations.
        self.fills: list[Fill] = []
        self._open: dict[str, RoundTrip] = {}
        self.fees = ZERO
        self.funding = ZERO
        self.liquidations = 0

    def record(self, events: Iterable[Event], time: str) -> None:
        for event in events:
            if isinstance(event, Fill):
                self._fill(event, time)
            elif isinstance(event, FundingPaid):
                self.funding += event.payment
                trip = self._open.get(event.symbol)
                if trip is not None:
                    trip.funding += event.payment
            elif event.kind == "liquidated":
                self.liquidations += 1

    def _fill(self, fill: Fill, time: str) -> None:
        self.fills.append(fill)
        self.fees += fill.fee
        side = "long" if fill.side is Side.BUY else "short"
        trip = self._open.get(fill.symbol)
        if trip is None:
            self._open_with(fill, fill.quantity, fill.fee, side, time)
            return
        trip.fill_ids.append(fill.fill_id)
        if trip.side == side:
            trip.entry_quantity += fill.quantity
            trip.entry_notional += fill.notional
            trip.open_size += fill.quantity
            trip.max_size = max(trip.max_size, trip.open_size)
            trip.fees += fill.fee
            return
        closed = min(fill.quantity, trip.open_size)
        left = fill.quantity - closed
        closing_fee = fill.fee if not left else money(fill.fee * closed / fill.quantity)
        trip.exit_quantity += closed
        trip.exit_notional += closed * fill.price
        trip.realized_pnl += fill.realized_pnl
        trip.fees += closing_fee
        trip.open_size -= closed
        if trip.open_size:
            return
        trip.exit_time = time
        trip.exit_reason = _exit_reason(fill)
        self.closed.append(trip)
        del self._open[fill.symbol]
        if left:
            self._open_with(fill, left, fill.fee - closing_fee, side, time)

    def _open_with(self, fill: Fill, quantity: Decimal, fee: Decimal, side: str, time: str) -> None:
        self._open[fill.symbol] = RoundTrip(
            symbol=fill.symbol,
            side=side,
            entry_time=time,
            open_size=quantity,
            max_size=quantity,
            entry_quantity=quantity,
            entry_notional=quantity * fill.price,
            fees=fee,
            fill_ids=[fill.fill_id],
        )

    def still_open(self) -> list[RoundTrip]:
        return [self._open[s] for s in sorted(self._open)]
