"""The kill switch, for one trader or all of a user's: stop it, cancel its open orders and,
if asked, close its positions with reduce-only market orders. Venue-neutral: a paper
trader's resting orders are cancelled and its positions closed on paper the same way.

Each step runs even if an earlier one failed (a venue that cannot cancel must not keep a
trader running); what failed is answered per trader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError, not_found
from hyperoru.exchanges.base import OrderIntent
from hyperoru.notifications import outbox
from hyperoru.trading.execution import TraderExchanges
from hyperoru.trading.models import TradingOrder

STOPPED_REASON = "stopped by the kill switch"
CANCELLABLE = ("pending", "open", "partially_filled")


@dataclass(slots=True)
class KillReport:
    account_id: int
    execution_mode: str
    stopped: bool = False
    orders_cancelled: int = 0
    positions_closed: int = 0
    errors: list[str] = field(default_factory=list)


async def kill_trader(exchanges: TraderExchanges, account_id: int, *, flatten: bool) -> KillReport:
    """404 ACCOUNT_NOT_FOUND for a missing trader; everything else is in the report."""
    sessionmaker = exchanges.live.sessionmaker
    async with sessionmaker() as session:
        account = await session.get(Account, account_id)
        if account is None or account.deleted_at is not None:
            raise not_found("account")
        report = KillReport(account_id, account.execution_mode)
        was_running = await outbox.lock_running(session, account_id)
        account.auto_trading_enabled = False
        account.status, account.status_reason = "paused", STOPPED_REASON
        account.updated_at = exchanges.now()
        if was_running:
            await outbox.trader_paused(session, account=account, cause="kill_switch")
        user_id = account.user_id
        await session.commit()
        report.stopped = True
    await exchanges.live.tell_changed(user_id)
    if report.execution_mode == "live":
        await _cancel_live(exchanges, report)
    else:
        await _cancel_paper(exchanges, report)
    if flatten:
        await _flatten(exchanges, report)
    return report


async def kill_user(exchanges: TraderExchanges, user_id: int, *, flatten: bool) -> list[KillReport]:
    async with exchanges.live.sessionmaker() as session:
        account_ids = list(
            (
                await session.scalars(
                    select(Account.id)
                    .where(Account.user_id == user_id, Account.deleted_at.is_(None))
                    .order_by(Account.id)
                )
            ).all()
        )
    return [await kill_trader(exchanges, a, flatten=flatten) for a in account_ids]


async def _cancel_live(exchanges: TraderExchanges, report: KillReport) -> None:
    try:
        report.orders_cancelled = await exchanges.live.cancel_everything(report.account_id)
    except ApiError as exc:
        report.errors.append(f"cancel: {exc.code}: {exc.message}")


async def _cancel_paper(exchanges: TraderExchanges, report: KillReport) -> None:
    async with exchanges.live.sessionmaker() as session:
        order_ids = list(
            (
                await session.scalars(
                    select(TradingOrder.id)
                    .where(
                        TradingOrder.account_id == report.account_id,
                        TradingOrder.status.in_(CANCELLABLE),
                    )
                    .order_by(TradingOrder.id)
                )
            ).all()
        )
    for order_id in order_ids:
        try:
            await exchanges.paper.cancel(account_id=report.account_id, order_id=order_id)
        except ApiError as exc:
            if exc.code != "ORDER_NOT_PENDING":  # filled meanwhile: nothing to cancel
                report.errors.append(f"cancel order {order_id}: {exc.code}: {exc.message}")
            continue
        report.orders_cancelled += 1


async def _flatten(exchanges: TraderExchanges, report: KillReport) -> None:
    client = exchanges.live if report.execution_mode == "live" else exchanges.paper
    try:
        if report.execution_mode == "live":
            positions = await exchanges.live.positions(account_id=report.account_id, fresh=True)
        else:
            positions = await client.positions(account_id=report.account_id)
    except ApiError as exc:
        report.errors.append(f"positions: {exc.code}: {exc.message}")
        return
    for position in positions:
        intent = OrderIntent(
            symbol=position.symbol,
            side="sell" if position.side == "long" else "buy",
            order_type="market",
            quantity=position.size,
            reduce_only=True,
            name="kill:flatten",
        )
        try:
            placed = await client.place(account_id=report.account_id, intent=intent)
        except ApiError as exc:
            report.errors.append(f"close {position.symbol}: {exc.code}: {exc.message}")
            continue
        if placed.execution_status == "filled":
            report.positions_closed += 1
        else:
            report.errors.append(
                f"close {position.symbol}: {placed.execution_status}"
                + (f" ({placed.reject_code})" if placed.reject_code else "")
            )
