"""Typed immutable events the engine emits, and the results that carry them.

Callers persist events in the order given; every event has a ``kind`` discriminator so it
can travel as a tagged union (WebSocket, notifications) without a lookup table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from hyperoru.trading.engine.enums import (
    Liquidity,
    OrderStatus,
    RejectCode,
    Side,
)
from hyperoru.trading.engine.money import ZERO
from hyperoru.trading.engine.state import AccountState, TriggerOrder


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``realized_pnl`` is gross of ``fee``; cash moves by their difference."""

    fill_id: int
    order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    liquidity: Liquidity
    realized_pnl: Decimal
    time: datetime
    is_liquidation: bool = False
    client_order_id: str | None = None
    kind: Literal["fill"] = "fill"

    @property
    def notional(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True, slots=True)
class PositionChanged:
    """A position after a fill; ``size`` 0 means closed (and ``entry_price`` is then 0)."""

    symbol: str
    previous_size: Decimal
    size: Decimal
    entry_price: Decimal
    leverage: int
    time: datetime
    kind: Literal["position_changed"] = "position_changed"


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order's (or trigger's) new status; ``reason`` explains rejects and cancels."""

    order_id: str
    symbol: str
    status: OrderStatus
    filled_quantity: Decimal
    time: datetime
    reason: RejectCode | str | None = None
    client_order_id: str | None = None
    kind: Literal["order_updated"] = "order_updated"


@dataclass(frozen=True, slots=True)
class TriggerPlaced:
    trigger: TriggerOrder
    time: datetime
    kind: Literal["trigger_placed"] = "trigger_placed"


@dataclass(frozen=True, slots=True)
class FundingPaid:
    """One hourly funding settlement; ``payment`` > 0 is paid by the trader, < 0 received."""

    symbol: str
    time: datetime
    position_size: Decimal
    mark_price: Decimal
    rate: Decimal
    payment: Decimal
    kind: Literal["funding_paid"] = "funding_paid"


@dataclass(frozen=True, slots=True)
class Liquidated:
    """The account fell below maintenance margin; the liquidation fills follow this event."""

    time: datetime
    equity: Decimal
    maintenance_margin: Decimal
    symbols: tuple[str, ...]
    kind: Literal["liquidated"] = "liquidated"


Event = Fill | PositionChanged | OrderUpdated | TriggerPlaced | FundingPaid | Liquidated


@dataclass(frozen=True, slots=True)
class EngineResult:
    """The new state and what happened, in the order it happened."""

    state: AccountState
    events: tuple[Event, ...]

    @property
    def fills(self) -> tuple[Fill, ...]:
        return tuple(e for e in self.events if isinstance(e, Fill))


@dataclass(frozen=True, slots=True)
class OrderResult(EngineResult):
    """The outcome of one order. On a reject ``state`` is the input state, unchanged.

    ``status`` is the contract's ``execution_status``: filled, partially_filled (filled in
    part; the rest rests or, for IOC and market orders, was cancelled), open or rejected.
    """

    order_id: str = ""
    status: OrderStatus = OrderStatus.REJECTED
    filled_quantity: Decimal = ZERO
    reject_code: RejectCode | None = None
    message: str | None = None

    @property
    def average_price(self) -> Decimal | None:
        fills = self.fills
        if not fills:
            return None
        return sum((f.notional for f in fills), ZERO) / sum((f.quantity for f in fills), ZERO)
