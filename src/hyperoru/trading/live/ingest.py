"""Venue fills and funding into the ledger tables paper uses (``trading_fills``,
``trading_funding_payments``), idempotently, in the caller's transaction.

A fill the venue reports twice (every ingest re-reads from the cursor, reconciliation
re-reads after a restart) is recognised by its venue fill id, unique per trader; our
order's filled quantity and average price are recomputed from its stored fills, so the
same batch applied twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.exchanges.venue import VenueFill, VenueFunding, VenuePosition
from hyperoru.notifications import outbox
from hyperoru.trading.ledger_store import insert_ignoring_duplicates
from hyperoru.trading.live.journal import order_ids_by_client_id
from hyperoru.trading.models import FundingPayment, TradingFill, TradingOrder


@dataclass(frozen=True, slots=True)
class _Position:
    symbol: str
    size: Decimal


async def ingest_fills(
    session: AsyncSession,
    *,
    account_id: int,
    fills: Sequence[VenueFill],
    positions: Sequence[VenuePosition] | None = None,
) -> list[TradingFill]:
    """Store the fills not stored yet; the new rows, oldest first (ids flushed).

    The new rows' Telegram/Discord messages are added to the same transaction, as a paper
    fill's are. ``positions``: the venue's positions read after these fills (a filled
    symbol without one is flat, so its "position closed" is told); None when unknown,
    which tells the trades only.
    """
    if not fills:
        return []
    wanted = {f.venue_fill_id for f in fills}
    known = set(
        (
            await session.scalars(
                select(TradingFill.venue_fill_id).where(
                    TradingFill.account_id == account_id, TradingFill.venue_fill_id.in_(wanted)
                )
            )
        ).all()
    )
    fresh: dict[str, VenueFill] = {}
    for fill in sorted(fills, key=lambda f: (f.time, f.venue_fill_id)):
        if fill.venue_fill_id not in known:
            fresh.setdefault(fill.venue_fill_id, fill)
    if not fresh:
        return []
    orders = await order_ids_by_client_id(
        session, account_id, {f.client_order_id for f in fresh.values() if f.client_order_id}
    )
    last = await session.scalar(
        select(func.max(TradingFill.fill_id)).where(TradingFill.account_id == account_id)
    )
    number = last or 0
    rows = []
    for fill in fresh.values():
        number += 1
        rows.append(
            TradingFill(
                account_id=account_id,
                fill_id=number,
                order_id=orders.get(fill.client_order_id or ""),
                engine_order_id=(fill.client_order_id or f"venue:{fill.venue_order_id}")[:64],
                symbol=fill.symbol,
                side=fill.side,
                price=fill.price,
                quantity=fill.quantity,
                fee=fill.fee,
                realized_pnl=fill.realized_pnl,
                liquidity=fill.liquidity,
                is_liquidation=fill.is_liquidation,
                time=fill.time,
                venue_fill_id=fill.venue_fill_id,
            )
        )
    session.add_all(rows)
    await session.flush()
    await _refresh_orders(session, {r.order_id for r in rows if r.order_id is not None})
    await _notify(session, account_id, rows, positions)
    return rows


async def _notify(
    session: AsyncSession,
    account_id: int,
    rows: Sequence[TradingFill],
    positions: Sequence[VenuePosition] | None,
) -> None:
    account = await session.get(Account, account_id)
    if account is None:
        return
    after: list[_Position] = []
    if positions is not None:
        sizes = {p.symbol: p.size for p in positions}
        after = [
            _Position(s, sizes.get(s, Decimal(0))) for s in dict.fromkeys(r.symbol for r in rows)
        ]
    await outbox.trades_recorded(session, account=account, fills=rows, positions=after)


async def _refresh_orders(session: AsyncSession, order_ids: set[int]) -> None:
    """Each order's filled quantity and average price from all its stored fills."""
    for order_id in sorted(order_ids):
        order = await session.get(TradingOrder, order_id)
        if order is None:
            continue
        totals = (
            await session.execute(
                select(TradingFill.price, TradingFill.quantity).where(
                    TradingFill.order_id == order_id, TradingFill.venue_fill_id.is_not(None)
                )
            )
        ).all()
        quantity = sum((Decimal(q) for _, q in totals), Decimal(0))
        if quantity <= 0:
            continue
        value = sum((Decimal(p) * Decimal(q) for p, q in totals), Decimal(0))
        order.filled_quantity, order.average_price = quantity, value / quantity
        if quantity >= order.quantity:
            order.status = "filled"
        elif order.status in ("pending", "open"):
            order.status = "partially_filled"


async def ingest_funding(
    session: AsyncSession, *, account_id: int, payments: Sequence[VenueFunding]
) -> None:
    """Funding payments; ``payment`` flips sign (the venue's positive is received, the
    ledger's positive is paid). The mark is the one the payment implies."""
    rows = []
    for item in payments:
        base = item.position_size * item.rate
        mark = abs(item.payment / base) if base else Decimal(0)
        rows.append(
            {
                "account_id": account_id,
                "symbol": item.symbol,
                "time": item.time,
                "position_size": item.position_size,
                "mark_price": mark,
                "rate": item.rate,
                "payment": -item.payment,
            }
        )
    await insert_ignoring_duplicates(
        session, FundingPayment, rows, ["account_id", "symbol", "time"]
    )


def latest_time(fills: Sequence[VenueFill], since: datetime) -> datetime:
    """The next cursor: the newest fill's time (fills at it are asked for again and
    recognised), or ``since`` when there were none."""
    return max((f.time for f in fills), default=since)
