"""The live order journal: the venue side of an order, written and committed before the
order is sent, and every later learning about it (the venue's answer, a status read)
applied to both rows in the caller's transaction.

Nothing here calls a venue: callers open a session, call these, commit, and only then
talk to the venue with no connection held.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.exchanges.venue import VenueErrorCode, VenueOrderState, VenueOrderStatus
from hyperoru.trading.live.models import UNRESOLVED, LiveOrder, SubmitState
from hyperoru.trading.models import TradingOrder

# Our order status for the venue's (engine/lifecycle.py's names).
ORDER_STATUS: dict[VenueOrderStatus, str] = {
    "open": "open",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "cancelled",
    "rejected": "rejected",
}
RESTING = ("open", "partially_filled")

# A venue refusal as the order's reject_code: the paper engine's code where one means the
# same, so a rejected order reads alike on paper and live.
REJECT_CODE: dict[VenueErrorCode, str] = {
    "VENUE_INSUFFICIENT_MARGIN": "INSUFFICIENT_MARGIN",
    "VENUE_MIN_NOTIONAL": "MIN_NOTIONAL",
    "VENUE_PRECISION": "INVALID_TICK",
    "VENUE_REDUCE_ONLY": "REDUCE_ONLY_REJECTED",
    "VENUE_WOULD_TRIGGER": "POST_ONLY_WOULD_CROSS",
    "VENUE_NO_LIQUIDITY": "NO_LIQUIDITY",
}


def new_client_id() -> str:
    """32 lowercase hex digits: Hyperliquid's cloid (16 bytes) and a valid Binance id."""
    return uuid4().hex


def open_entry(order: TradingOrder, *, venue: str, now: datetime) -> LiveOrder:
    """The journal row of an order about to be sent (the caller adds and commits it)."""
    return LiveOrder(
        order_id=order.id,
        account_id=order.account_id,
        venue=venue,
        venue_client_id=new_client_id(),
        venue_order_id=None,
        submit_state="pending_submit",
        reason=None,
        created_at=now,
        updated_at=now,
    )


async def entry_of(session: AsyncSession, order_id: int) -> LiveOrder | None:
    return await session.get(LiveOrder, order_id)


async def journalled(session: AsyncSession, order_id: int) -> tuple[TradingOrder, LiveOrder]:
    """A journalled order and its journal row (both exist once the order was journalled;
    orders are never deleted while their trader is live)."""
    order = await session.get(TradingOrder, order_id)
    entry = await session.get(LiveOrder, order_id)
    assert order is not None and entry is not None
    return order, entry


async def unresolved(
    session: AsyncSession, account_id: int
) -> list[tuple[LiveOrder, TradingOrder]]:
    rows = await session.execute(
        select(LiveOrder, TradingOrder)
        .join(TradingOrder, TradingOrder.id == LiveOrder.order_id)
        .where(LiveOrder.account_id == account_id, LiveOrder.submit_state.in_(UNRESOLVED))
        .order_by(LiveOrder.order_id)
    )
    return [(entry, order) for entry, order in rows]


async def resting(session: AsyncSession, account_id: int) -> list[tuple[LiveOrder, TradingOrder]]:
    """Our orders the venue took and we believe are still working."""
    rows = await session.execute(
        select(LiveOrder, TradingOrder)
        .join(TradingOrder, TradingOrder.id == LiveOrder.order_id)
        .where(
            LiveOrder.account_id == account_id,
            LiveOrder.submit_state == "submitted",
            TradingOrder.status.in_(RESTING),
        )
        .order_by(LiveOrder.order_id)
    )
    return [(entry, order) for entry, order in rows]


async def order_ids_by_client_id(
    session: AsyncSession, account_id: int, client_ids: set[str]
) -> dict[str, int]:
    if not client_ids:
        return {}
    rows = await session.execute(
        select(LiveOrder.venue_client_id, LiveOrder.order_id).where(
            LiveOrder.account_id == account_id, LiveOrder.venue_client_id.in_(client_ids)
        )
    )
    return {client_id: order_id for client_id, order_id in rows}


def _set_state(entry: LiveOrder, state: SubmitState, now: datetime, reason: str | None) -> None:
    entry.submit_state, entry.updated_at = state, now
    if reason is not None:
        entry.reason = reason[:500]


def mark_unknown(entry: LiveOrder, *, now: datetime, reason: str) -> None:
    _set_state(entry, "unknown", now, reason)


def mark_rejected(
    entry: LiveOrder, order: TradingOrder, *, code: str, reason: str, now: datetime
) -> None:
    _set_state(entry, "rejected", now, reason)
    order.status, order.reject_code = "rejected", code[:32]
    order.status_reason, order.updated_at = reason[:500], now


def apply_state(
    entry: LiveOrder, order: TradingOrder, state: VenueOrderState, *, now: datetime
) -> bool:
    """What the venue says about the order, onto both rows; True when anything changed.

    Filled quantity and average price only ever grow here: fills (``ingest``) are the
    ledger's source and may be ahead of a status read.
    """
    before = (entry.submit_state, entry.venue_order_id, order.status, order.filled_quantity)
    if state.status == "rejected":
        mark_rejected(
            entry, order, code="VENUE_REJECTED", reason=state.reason or "rejected", now=now
        )
        return True
    _set_state(entry, "submitted", now, None)
    entry.venue_order_id = state.venue_order_id
    if state.filled_quantity > order.filled_quantity:
        order.filled_quantity = state.filled_quantity
        order.average_price = state.average_price
    status = ORDER_STATUS[state.status]
    if status == "cancelled" and order.filled_quantity >= order.quantity > Decimal(0):
        status = "filled"
    order.status, order.updated_at = status, now
    if state.reason and status == "cancelled":
        order.status_reason = state.reason[:500]
    return before != (entry.submit_state, entry.venue_order_id, order.status, order.filled_quantity)
