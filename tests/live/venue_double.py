"""An in-memory venue that implements the whole ``VenueAdapter`` protocol, for the live
client's tests: a price per symbol, market orders filled at it (taker fee 0.045%), limit
orders resting until a test fills them, signed positions with realised PnL, and fault
switches a test sets before the call it wants to fail.

The lead re-runs the same scenarios against the loopback fake venues; this double only
stands in for them where a test needs a fault at an exact point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from hyperoru.exchanges.venue import (
    CredentialCheck,
    SymbolRules,
    UnknownOutcome,
    Venue,
    VenueAccount,
    VenueEnvironment,
    VenueError,
    VenueFill,
    VenueFunding,
    VenueOrder,
    VenueOrderState,
    VenuePosition,
)

D = Decimal
TAKER = D("0.00045")

# What the next ``submit`` does instead of its normal work.
SubmitFault = Literal[
    "unknown_after_accept",  # the venue takes the order, the answer is lost
    "unknown_before_accept",  # the request is lost before the venue sees it
    "crash_before_send",  # the process dies before the request leaves
    "crash_after_accept",  # the venue takes the order, then the process dies
]


class SimulatedCrash(BaseException):
    """The process died here: nothing after this point of the flow runs (a BaseException,
    so no ``except Exception`` in the code under test can swallow it)."""


def _start() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class _Position:
    size: Decimal = Decimal(0)
    entry: Decimal = Decimal(0)


@dataclass
class VenueDouble:
    venue: Venue = "hyperliquid"
    environment: VenueEnvironment = "testnet"
    prices: dict[str, Decimal] = field(default_factory=lambda: {"BTC": D(50000), "ETH": D(3000)})
    cash: Decimal = Decimal(10000)
    clock: Callable[[], datetime] = _start
    # Called at the start of every venue call: a test asserts there what must hold while
    # the venue is being asked (no database connection checked out).
    probe: Callable[[], None] | None = None
    # Fault switches, each consumed by the next call it applies to.
    submit_fault: SubmitFault | None = None
    reject_next: VenueError | None = None
    partial_fill: Decimal | None = None  # the fraction of the next market order that fills
    down: bool = False  # every call fails as if the venue could not be reached
    fail_next_fills: bool = False  # the next ``fills`` read fails
    # What the tests assert on.
    submitted: list[VenueOrder] = field(default_factory=list)
    cancel_all_calls: int = 0
    dead_man: list[int | None] = field(default_factory=list)  # arms (seconds), None = disarm
    closed: bool = False
    orders: dict[str, VenueOrderState] = field(default_factory=dict)
    fill_log: list[VenueFill] = field(default_factory=list)
    funding_log: list[VenueFunding] = field(default_factory=list)
    positions: dict[str, _Position] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def now(self) -> datetime:
        return self.clock()

    def _check_up(self) -> None:
        if self.probe is not None:
            self.probe()
        if self.down:
            raise VenueError("VENUE_UNAVAILABLE", "the venue did not answer")

    # -- scripting -----------------------------------------------------------------------

    def fill(self, client_order_id: str, quantity: Decimal, price: Decimal) -> VenueFill:
        """Fill (part of) a resting order, as the book would."""
        state = self.orders[client_order_id]
        return self._execute(state, quantity, price, liquidity="maker")

    def trigger(self, client_order_id: str) -> VenueFill:
        """A resting TP/SL trigger fires: it fills at the current price."""
        state = self.orders[client_order_id]
        return self._execute(state, state.quantity, self.prices[state.symbol], liquidity="taker")

    def external_order(self, symbol: str, quantity: Decimal, price: Decimal) -> VenueOrderState:
        """An order someone placed on the account by hand (no client id of ours)."""
        state = VenueOrderState(
            client_order_id=None, venue_order_id=str(next(self._ids)), symbol=symbol,
            side="buy", status="open", quantity=quantity, filled_quantity=D(0),
            average_price=None, price=price,
        )  # fmt: skip
        self.orders[f"external-{state.venue_order_id}"] = state
        return state

    # -- the protocol --------------------------------------------------------------------

    async def rules(self) -> dict[str, SymbolRules]:
        self._check_up()
        return {
            "BTC": SymbolRules("BTC", D("0.1"), D("0.001"), D(10), 20),
            "ETH": SymbolRules("ETH", D("0.01"), D("0.01"), D(10), 10),
        }

    async def validate(self) -> CredentialCheck:
        self._check_up()
        return CredentialCheck(problems=())

    async def submit(self, order: VenueOrder) -> VenueOrderState:
        self._check_up()
        if self.submit_fault == "crash_before_send":
            self.submit_fault = None
            raise SimulatedCrash
        self.submitted.append(order)
        if self.reject_next is not None:
            error, self.reject_next = self.reject_next, None
            raise error
        fault, self.submit_fault = self.submit_fault, None
        if fault == "unknown_before_accept":
            raise UnknownOutcome("timed out before the venue answered")
        state = VenueOrderState(
            client_order_id=order.client_order_id, venue_order_id=str(next(self._ids)),
            symbol=order.symbol, side=order.side, status="open", quantity=order.quantity,
            filled_quantity=D(0), average_price=None, price=order.price,
            reduce_only=order.reduce_only, updated_at=self.now,
        )  # fmt: skip
        self.orders[order.client_order_id] = state
        if order.order_type == "market" and order.trigger is None:
            quantity = order.quantity
            if self.partial_fill is not None:
                quantity, self.partial_fill = order.quantity * self.partial_fill, None
            if order.reduce_only:
                held = abs(self.positions.get(order.symbol, _Position()).size)
                quantity = min(quantity, held)
            if quantity > 0:
                self._execute(state, quantity, self.prices[order.symbol], liquidity="taker")
            state = self.orders[order.client_order_id]
            if state.status == "open" or state.status == "partially_filled":
                state = replace(state, status="canceled" if state.filled_quantity == 0 else
                                "partially_filled")  # fmt: skip
                if state.status == "partially_filled":
                    # An IOC remainder is cancelled; the filled part stays.
                    state = replace(state, reason="ioc remainder cancelled")
                self.orders[order.client_order_id] = state
        if fault == "unknown_after_accept":
            raise UnknownOutcome("timed out after sending")
        if fault == "crash_after_accept":
            raise SimulatedCrash
        return self.orders[order.client_order_id]

    def _execute(
        self, state: VenueOrderState, quantity: Decimal, price: Decimal, *, liquidity: str
    ) -> VenueFill:
        position = self.positions.setdefault(state.symbol, _Position())
        signed = quantity if state.side == "buy" else -quantity
        realized = D(0)
        if position.size and (position.size > 0) != (signed > 0):
            closed = min(abs(signed), abs(position.size))
            direction = 1 if position.size > 0 else -1
            realized = (price - position.entry) * closed * direction
        new_size = position.size + signed
        if new_size == 0:
            position.entry = D(0)
        elif position.size == 0 or (position.size > 0) != (new_size > 0):
            position.entry = price
        elif (position.size > 0) == (signed > 0):
            position.entry = (position.entry * abs(position.size) + price * quantity) / abs(
                new_size
            )
        position.size = new_size
        fee = (price * quantity * TAKER).quantize(D("0.000001"))
        self.cash += realized - fee
        filled = state.filled_quantity + quantity
        average = (
            (state.average_price or D(0)) * state.filled_quantity + price * quantity
        ) / filled
        status = "filled" if filled >= state.quantity else "partially_filled"
        key = state.client_order_id or f"external-{state.venue_order_id}"
        self.orders[key] = replace(
            state, filled_quantity=filled, average_price=average, status=status
        )
        fill = VenueFill(
            venue_fill_id=f"t{next(self._ids)}", venue_order_id=state.venue_order_id,
            client_order_id=state.client_order_id, symbol=state.symbol, side=state.side,
            price=price, quantity=quantity, fee=fee, realized_pnl=realized,
            liquidity="taker" if liquidity == "taker" else "maker", is_liquidation=False,
            time=self.now,
        )  # fmt: skip
        self.fill_log.append(fill)
        return fill

    async def cancel(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        self._check_up()
        state = self.orders.get(client_order_id)
        if state is None:
            return None
        if state.status in ("open", "partially_filled"):
            state = replace(state, status="canceled")
            self.orders[client_order_id] = state
        return state

    async def cancel_all(self, *, symbols: Sequence[str] | None = None) -> int:
        self._check_up()
        self.cancel_all_calls += 1
        cancelled = 0
        for key, state in list(self.orders.items()):
            if state.status in ("open", "partially_filled") and (
                symbols is None or state.symbol in symbols
            ):
                self.orders[key] = replace(state, status="canceled")
                cancelled += 1
        return cancelled

    async def order_status(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        self._check_up()
        return self.orders.get(client_order_id)

    async def open_orders(self) -> list[VenueOrderState]:
        self._check_up()
        return [s for s in self.orders.values() if s.status in ("open", "partially_filled")]

    async def fills(self, *, since: datetime) -> list[VenueFill]:
        self._check_up()
        if self.fail_next_fills:
            self.fail_next_fills = False
            raise VenueError("VENUE_UNAVAILABLE", "the venue did not answer")
        return [f for f in self.fill_log if f.time >= since]

    async def funding(self, *, since: datetime) -> list[VenueFunding]:
        self._check_up()
        return [f for f in self.funding_log if f.time >= since]

    async def account(self) -> VenueAccount:
        self._check_up()
        positions = []
        for symbol, held in self.positions.items():
            if held.size == 0:
                continue
            mark = self.prices[symbol]
            positions.append(
                VenuePosition(
                    symbol=symbol,
                    size=held.size,
                    entry_price=held.entry,
                    mark_price=mark,
                    leverage=1,
                    isolated=False,
                    liquidation_price=None,
                    unrealized_pnl=(mark - held.entry) * held.size,
                    margin_used=abs(held.size) * mark,
                )
            )
        unrealized = sum((p.unrealized_pnl for p in positions), D(0))
        margin = sum((p.margin_used for p in positions), D(0))
        equity = self.cash + unrealized
        return VenueAccount(
            equity=equity, available=equity - margin, margin_used=margin,
            unrealized_pnl=unrealized, positions=tuple(positions), taken_at=self.now,
        )  # fmt: skip

    async def set_leverage(self, *, symbol: str, leverage: int, isolated: bool) -> None:
        self._check_up()

    async def arm_dead_man(self, *, seconds: int) -> None:
        self._check_up()
        self.dead_man.append(seconds)

    async def disarm_dead_man(self) -> None:
        self._check_up()
        self.dead_man.append(None)

    async def aclose(self) -> None:
        self.closed = True
