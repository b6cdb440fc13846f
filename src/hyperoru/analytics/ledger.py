"""Reading one user's ledger for analytics: traders, trades, equity at period boundaries.
Only the caller's live (not deleted) traders are ever read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.analytics.trades import Cause, FillRow, FundingRow, Trade, account_trades
from hyperoru.trading.models import EquitySnapshot, FundingPayment, TradingFill, TradingOrder

PERIODS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}


@dataclass(frozen=True, slots=True)
class Trader:
    id: int
    name: str
    account_type: str
    initial_capital: Decimal


async def traders_of(
    session: AsyncSession, user_id: int, account_ids: Sequence[int] | None = None
) -> list[Trader]:
    query = select(Account).where(Account.user_id == user_id, Account.deleted_at.is_(None))
    if account_ids is not None:
        query = query.where(Account.id.in_(account_ids))
    rows = await session.scalars(query.order_by(Account.id))
    return [Trader(a.id, a.name, a.account_type, a.initial_capital) for a in rows]


async def trades_of(session: AsyncSession, traders: Sequence[Trader]) -> list[Trade]:
    """Every trade of ``traders`` (the whole history: a position's state needs every
    fill since the trader started)."""
    ids = [t.id for t in traders]
    if not ids:
        return []
    fills = (
        await session.scalars(select(TradingFill).where(TradingFill.account_id.in_(ids)))
    ).all()
    funding = (
        await session.scalars(select(FundingPayment).where(FundingPayment.account_id.in_(ids)))
    ).all()
    order_ids = {f.order_id for f in fills if f.order_id is not None}
    causes: dict[int, Cause] = {}
    if order_ids:
        orders = await session.execute(
            select(
                TradingOrder.id,
                TradingOrder.trigger_type,
                TradingOrder.decision_id,
                TradingOrder.strategy_type,
                TradingOrder.prompt_id,
                TradingOrder.program_id,
                TradingOrder.binding_id,
            ).where(TradingOrder.account_id.in_(ids))
        )
        causes = {row[0]: Cause(*row[1:]) for row in orders if row[0] in order_ids}
    trades: list[Trade] = []
    for account_id in ids:
        trades += account_trades(
            account_id,
            (
                FillRow(
                    f.id,
                    f.account_id,
                    f.order_id,
                    f.engine_order_id,
                    f.symbol,
                    f.side,
                    f.price,
                    f.quantity,
                    f.fee,
                    f.realized_pnl,
                    f.liquidity,
                    f.is_liquidation,
                    f.time,
                )
                for f in fills
                if f.account_id == account_id
            ),
            (
                FundingRow(p.account_id, p.symbol, p.time, p.position_size, p.payment)
                for p in funding
                if p.account_id == account_id
            ),
            causes,
        )
    return trades


def boundaries(since: datetime, until: datetime, period: str) -> list[datetime]:
    """The period boundaries within [since, until]: whole UTC hours, days (00:00) or
    weeks (Mondays 00:00)."""
    step = PERIODS[period]
    origin = datetime(1970, 1, 5, tzinfo=since.tzinfo)  # a Monday
    first = origin + -((origin - since) // step) * step
    points = []
    at = first
    while at <= until:
        points.append(at)
        at += step
    return points


async def equity_at(
    session: AsyncSession, traders: Sequence[Trader], points: Sequence[datetime]
) -> dict[int, list[Decimal | None]]:
    """Each trader's equity at each point: its last asset-curve snapshot at or before
    it (None before its first one)."""
    if not points or not traders:
        return {t.id: [None] * len(points) for t in traders}
    ids = [t.id for t in traders]
    # Each trader's last snapshot at or before the first point (one row per trader).
    latest = (
        select(EquitySnapshot.account_id, func.max(EquitySnapshot.taken_at).label("at"))
        .where(EquitySnapshot.account_id.in_(ids), EquitySnapshot.taken_at <= points[0])
        .group_by(EquitySnapshot.account_id)
        .subquery()
    )
    earlier = select(
        EquitySnapshot.account_id, EquitySnapshot.taken_at, EquitySnapshot.equity
    ).join(
        latest,
        and_(
            EquitySnapshot.account_id == latest.c.account_id,
            EquitySnapshot.taken_at == latest.c.at,
        ),
    )
    within = (
        select(EquitySnapshot.account_id, EquitySnapshot.taken_at, EquitySnapshot.equity)
        .where(
            EquitySnapshot.account_id.in_(ids),
            EquitySnapshot.taken_at > points[0],
            EquitySnapshot.taken_at <= points[-1],
        )
        .order_by(EquitySnapshot.taken_at)
    )
    last: dict[int, tuple[datetime, Decimal]] = {}
    for account_id, taken_at, equity in await session.execute(earlier):
        last[account_id] = (taken_at, equity)
    rows = list(await session.execute(within))
    result: dict[int, list[Decimal | None]] = {i: [] for i in ids}
    cursor = 0
    for point in points:
        while cursor < len(rows) and rows[cursor][1] <= point:
            account_id, taken_at, equity = rows[cursor]
            last[account_id] = (taken_at, equity)
            cursor += 1
        for account_id in ids:
            seen = last.get(account_id)
            result[account_id].append(None if seen is None else seen[1])
    return result
