"""The account as the engine sees it, and the order request it is asked to execute.

All of it is immutable: the engine returns a new ``AccountState`` and never changes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hyperoru.trading.engine.enums import (
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerKind,
)
from hyperoru.trading.engine.money import ZERO


@dataclass(frozen=True, slots=True)
class Position:
    """One net position; ``size`` is signed (positive long, negative short), never zero.

    An isolated position holds ``isolated_margin`` (moved out of the account's cash when
    it was opened or grown); a cross position holds none and is margined from cash.
    """

    symbol: str
    size: Decimal
    entry_price: Decimal
    leverage: int
    mark_price: Decimal
    opened_at: datetime
    margin_mode: MarginMode = MarginMode.CROSS
    isolated_margin: Decimal = ZERO

    @property
    def is_isolated(self) -> bool:
        return self.margin_mode is MarginMode.ISOLATED

    @property
    def isolated_equity(self) -> Decimal:
        """What an isolated position is worth to its owner: its margin plus its PnL."""
        return self.isolated_margin + self.unrealized_pnl

    @property
    def side(self) -> Side:
        return Side.BUY if self.size > 0 else Side.SELL

    @property
    def notional(self) -> Decimal:
        return abs(self.size) * self.mark_price

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.size * (self.mark_price - self.entry_price)


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """A limit order on the (simulated) book, waiting for the market to trade through it."""

    order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    leverage: int
    placed_at: datetime
    filled_quantity: Decimal = ZERO
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: str | None = None
    margin_mode: MarginMode = MarginMode.CROSS

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def status(self) -> OrderStatus:
        return OrderStatus.PARTIALLY_FILLED if self.filled_quantity else OrderStatus.OPEN


@dataclass(frozen=True, slots=True)
class TriggerOrder:
    """A take-profit or stop-loss for the position its parent order opened.

    ``side`` is the closing side. It waits (``active`` false) while the parent order rests
    unfilled, then fires once, as a reduce-only market order for the whole position.
    """

    order_id: str
    parent_order_id: str
    symbol: str
    kind: TriggerKind
    side: Side
    trigger_price: Decimal
    created_at: datetime
    active: bool = True

    @property
    def status(self) -> OrderStatus:
        return OrderStatus.OPEN if self.active else OrderStatus.WAITING

    def is_crossed_by(self, mark: Decimal) -> bool:
        """Reaching the trigger price counts as crossing it."""
        # A sell closes a long: its take-profit sits above the market, its stop below.
        above = (self.side is Side.SELL) == (self.kind is TriggerKind.TAKE_PROFIT)
        return mark >= self.trigger_price if above else mark <= self.trigger_price


@dataclass(frozen=True, slots=True)
class AccountState:
    """A trader's paper account.

    ``cash`` is the cross balance: deposits + realised PnL - fees - funding paid, less
    the isolated margin moved into isolated positions. Cross margin is reserved out of
    equity, never moved out of cash. ``last_fill_id`` numbers
    fills per account (1, 2, 3, ...) so a replay produces the same ids.
    ``funding_settled_at`` is the last hour boundary whose funding was settled.
    """

    cash: Decimal
    max_leverage: int = 10
    positions: tuple[Position, ...] = ()
    open_orders: tuple[RestingOrder, ...] = ()
    triggers: tuple[TriggerOrder, ...] = ()
    last_fill_id: int = 0
    funding_settled_at: datetime | None = None

    @property
    def balance(self) -> Decimal:
        """The realised balance: cash plus the margin parked in isolated positions."""
        return self.cash + sum((p.isolated_margin for p in self.positions), ZERO)

    def position(self, symbol: str) -> Position | None:
        for position in self.positions:
            if position.symbol == symbol:
                return position
        return None

    def open_order(self, order_id: str) -> RestingOrder | None:
        for order in self.open_orders:
            if order.order_id == order_id:
                return order
        return None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to execute now. ``order_id`` is the caller's id (e.g. the stored order's).

    Shape errors (non-positive quantity, a limit without price, leverage below 1) raise
    ``ValueError``: they are request validation failures, not business-rule rejects.
    A market order ignores ``price`` and ``time_in_force`` (it always behaves as IOC).
    """

    order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    leverage: int = 1
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    client_order_id: str | None = None
    # Applies to the position the order opens (or the new side of a flip); a fill on an
    # existing position keeps that position's mode, as a venue keeps it while it is open.
    margin_mode: MarginMode = MarginMode.CROSS

    def __post_init__(self) -> None:
        if not (self.quantity.is_finite() and self.quantity > 0):
            raise ValueError("quantity must be a positive number")
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError("a limit order needs a price")
        if isinstance(self.leverage, bool) or not isinstance(self.leverage, int):
            raise ValueError("leverage must be an integer")
        if self.leverage < 1:
            raise ValueError("leverage must be at least 1")
        for value in (self.price, self.take_profit_price, self.stop_loss_price):
            if value is not None and not (value.is_finite() and value > 0):
                raise ValueError("prices must be positive numbers")

    @property
    def limit_price(self) -> Decimal | None:
        return self.price if self.order_type is OrderType.LIMIT else None

    @property
    def is_post_only(self) -> bool:
        return self.order_type is OrderType.LIMIT and self.time_in_force is TimeInForce.ALO

    @property
    def effective_tif(self) -> TimeInForce:
        return TimeInForce.IOC if self.order_type is OrderType.MARKET else self.time_in_force
