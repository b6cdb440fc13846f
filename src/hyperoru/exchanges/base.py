"""The one interface every execution venue implements: paper now, Hyperliquid and Binance later.

The decision pipeline and the WebSocket ``place_order`` call only this, so they branch once
on the trader's ``execution_mode``. Names are venue-neutral; every amount is ``Decimal``.
Orders are the server's stored orders (``trading_orders``): a client executes, cancels and
reports on them, so an order keeps one id whatever venue carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

ExecutionStatus = Literal["filled", "partially_filled", "open", "rejected"]
# Cross shares the account's balance; isolated gives a position its own margin.
MarginModeName = Literal["cross", "isolated"]


TriggerType = Literal["ai_decision", "signal", "manual"]


@dataclass(frozen=True, slots=True)
class OrderAttribution:
    """What caused an order, recorded with it for analytics: the kind of trigger and the
    strategy a decision cycle ran (an order without one was placed by hand)."""

    trigger_type: TriggerType
    strategy_type: str | None = None
    prompt_id: int | None = None
    program_id: int | None = None
    binding_id: int | None = None


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A new order as a strategy or a client asks for it (before any venue check)."""

    symbol: str
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit"]
    quantity: Decimal
    price: Decimal | None = None
    leverage: int | None = None
    reduce_only: bool = False
    time_in_force: Literal["gtc", "ioc", "alo"] = "gtc"
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    client_order_id: str | None = None
    name: str | None = None
    # None: the trader's default margin mode.
    margin_mode: MarginModeName | None = None
    # None: placed by hand (the orders API, /ws, the kill switch).
    attribution: OrderAttribution | None = None


@dataclass(frozen=True, slots=True)
class FillReport:
    id: int
    order_id: int | None
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
class ExecutionReport:
    """What one execute did: the contract's ``execution_status`` with its fills."""

    order_id: int
    execution_status: ExecutionStatus
    fills: tuple[FillReport, ...]
    reject_code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PositionReport:
    symbol: str
    side: Literal["long", "short"]
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    leverage: int
    liquidation_price: Decimal | None
    unrealized_pnl: Decimal
    margin_used: Decimal
    opened_at: datetime
    margin_mode: MarginModeName = "cross"
    # The margin an isolated position holds (None for cross).
    isolated_margin: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BalanceReport:
    """The account as a venue reports it: ``total`` is equity (cash + unrealised PnL)."""

    total: Decimal
    available: Decimal
    margin_used: Decimal
    unrealized_pnl: Decimal
    cash: Decimal
    positions_value: Decimal
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class ProcessSummary:
    processed: int
    succeeded: int
    failed: int


@runtime_checkable
class ExchangeClient(Protocol):
    """Execution for one kind of venue. Every call is for one trader (``account_id``)."""

    venue: str

    async def place(self, *, account_id: int, intent: OrderIntent) -> ExecutionReport:
        """Record the order and execute it at once (the pipeline's one-step path)."""
        ...

    async def execute(self, *, account_id: int, order_id: int) -> ExecutionReport:
        """Execute a stored pending order (the manual two-step flow's second step)."""
        ...

    async def cancel(self, *, account_id: int, order_id: int) -> None:
        """Cancel a pending or resting order; raises 409 ORDER_NOT_PENDING otherwise."""
        ...

    async def process_pending(self, *, account_ids: Sequence[int]) -> ProcessSummary: ...

    async def positions(self, *, account_id: int) -> list[PositionReport]: ...

    async def balance(self, *, account_id: int) -> BalanceReport: ...

    async def fills(self, *, account_id: int, limit: int, offset: int) -> list[FillReport]: ...
