"""A live order's take-profit and stop-loss as one pair (one cancels the other).

Both are the venue's own reduce-only trigger orders (``tp-of-<id>``, ``sl-of-<id>``,
sent by ``LiveExchange._attach_triggers``). Once one of them has filled in full, the
position it protected is closed and the other is cancelled at the venue. A side that
filled in part leaves the other working: being reduce-only, it can only close what is
left.

Nothing here calls a venue: the live client asks for the triggers' states before reading
fills (so a Binance trigger's fills are known to be ours), and cancels the siblings this
module names, with no connection held.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.trading.live import journal
from hyperoru.trading.models import TradingOrder

KINDS = ("tp", "sl")


@dataclass(frozen=True, slots=True)
class WorkingTrigger:
    order_id: int
    symbol: str
    venue_client_id: str  # what the venue knows it by


def _pair(client_order_id: str | None) -> tuple[str, str] | None:
    """``(kind, parent id)`` of a TP/SL order's id, else None."""
    if client_order_id is None:
        return None
    kind, _, parent = client_order_id.partition("-of-")
    return (kind, parent) if kind in KINDS and parent else None


def sibling_of(client_order_id: str | None) -> str | None:
    pair = _pair(client_order_id)
    if pair is None:
        return None
    kind, parent = pair
    return f"{'sl' if kind == 'tp' else 'tp'}-of-{parent}"


async def working_triggers(session: AsyncSession, account_id: int) -> list[WorkingTrigger]:
    """The trader's TP/SL orders the venue took and that still work."""
    return [
        WorkingTrigger(order.id, order.symbol, entry.venue_client_id)
        for entry, order in await journal.resting(session, account_id)
        if _pair(order.client_order_id) is not None
    ]


async def siblings_to_cancel(session: AsyncSession, account_id: int) -> list[WorkingTrigger]:
    """Working TP/SL orders whose other half has filled in full (found afresh each time,
    so a cancel that failed, or a crash before it, is made good at the next ingest)."""
    working = [
        (entry, order)
        for entry, order in await journal.resting(session, account_id)
        if _pair(order.client_order_id) is not None
    ]
    wanted = {sibling_of(order.client_order_id) for _, order in working}
    if not working:
        return []
    filled = set(
        (
            await session.scalars(
                select(TradingOrder.client_order_id).where(
                    TradingOrder.account_id == account_id,
                    TradingOrder.client_order_id.in_(wanted),
                    TradingOrder.status == "filled",
                )
            )
        ).all()
    )
    return [
        WorkingTrigger(order.id, order.symbol, entry.venue_client_id)
        for entry, order in working
        if sibling_of(order.client_order_id) in filled
    ]
