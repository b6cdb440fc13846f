"""Order records and the ledger's read side: creation with idempotent client ids, lists,
ownership of orders, and the asset curve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal, cast

from sqlalchemy import Select, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.auth.principal import Principal
from hyperoru.errors import ApiError, forbidden, not_found
from hyperoru.exchanges.base import OrderIntent
from hyperoru.paging import ListWindow
from hyperoru.trading.clock import floor_minute
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.models import EquitySnapshot, TradingOrder

# The asset curve's bucket sizes: the contract's three and the WebSocket page's "7d".
Timeframe = Literal["5m", "1h", "1d", "7d"]
TIMEFRAMES: dict[str, timedelta] = {
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}
_A_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)  # week buckets start on Mondays, 00:00 UTC


def _signature(
    order: TradingOrder | OrderIntent, leverage: int, margin_mode: str
) -> tuple[object, ...]:
    """What makes two requests with one ``client_order_id`` "the same order"; the
    ``name`` label is not part of it. Decimals compare by value (1.0 == 1)."""
    price = order.price if order.order_type == "limit" else None
    return (
        order.symbol,
        order.side,
        order.order_type,
        Decimal(order.quantity),
        price,
        leverage,
        margin_mode,
        bool(order.reduce_only),
        order.time_in_force,
        order.take_profit_price,
        order.stop_loss_price,
    )


def leverage_too_high(leverage: int, allowed: int) -> ApiError:
    return ApiError(
        422,
        "LEVERAGE_TOO_HIGH",
        f"Leverage {leverage} is above this trader's limit of {allowed}",
        details={"leverage": leverage, "max_leverage": allowed},
    )


async def _by_client_id(
    session: AsyncSession, account_id: int, client_order_id: str
) -> TradingOrder | None:
    return await session.scalar(
        select(TradingOrder).where(
            TradingOrder.account_id == account_id,
            TradingOrder.client_order_id == client_order_id,
        )
    )


def _same_or_conflict(
    existing: TradingOrder, intent: OrderIntent, leverage: int, margin_mode: str
) -> TradingOrder:
    mine = _signature(intent, leverage, margin_mode)
    if _signature(existing, existing.leverage, existing.margin_mode) != mine:
        raise ApiError(
            409,
            "IDEMPOTENCY_CONFLICT",
            "client_order_id was already used for an order with other parameters",
            details={"order_id": existing.id},
        )
    return existing


def _attribution_columns(intent: OrderIntent) -> dict[str, object]:
    """An order no decision cycle attributed was placed by hand."""
    cause = intent.attribution
    if cause is None:
        return {"trigger_type": "manual"}
    return {
        "trigger_type": cause.trigger_type,
        "strategy_type": cause.strategy_type,
        "prompt_id": cause.prompt_id,
        "program_id": cause.program_id,
        "binding_id": cause.binding_id,
    }


# A Core statement, not the ORM's unit of work: the row is written once and never changed
# in this transaction, and the flush machinery cost more than the INSERT itself.
_ORDERS = cast(Table, TradingOrder.__table__)
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)


async def create_order(
    session: AsyncSession,
    *,
    feed: MarketFeed,
    account: Account,
    intent: OrderIntent,
    now: datetime,
) -> tuple[TradingOrder, bool]:
    """Record a pending order; ``(order, created)``. Commits.

    Checked now: the symbol is tradable (422 UNKNOWN_SYMBOL) and the leverage is within
    min(trader max, asset max) (422 LEVERAGE_TOO_HIGH). Everything that depends on the
    market (size, tick, notional, margin, liquidity) is checked when the order executes.
    The same ``client_order_id`` again returns the first order, or 409 IDEMPOTENCY_CONFLICT
    if the parameters differ.
    """
    leverage = intent.leverage or account.default_leverage
    margin_mode = intent.margin_mode or account.margin_mode
    # Read now: a rollback below expires the row, and async sessions cannot lazy-load.
    account_id = account.id
    if intent.client_order_id is not None:
        existing = await _by_client_id(session, account_id, intent.client_order_id)
        if existing is not None:
            return _same_or_conflict(existing, intent, leverage, margin_mode), False
    asset = await feed.asset(intent.symbol)
    allowed = min(account.max_leverage, asset.max_leverage)
    if not intent.reduce_only and leverage > allowed:
        raise leverage_too_high(leverage, allowed)
    values: dict[str, object] = dict(
        account_id=account.id,
        user_id=account.user_id,
        client_order_id=intent.client_order_id,
        name=intent.name,
        symbol=intent.symbol,
        side=intent.side,
        order_type=intent.order_type,
        quantity=intent.quantity,
        price=intent.price,
        leverage=leverage,
        margin_mode=margin_mode,
        reduce_only=intent.reduce_only,
        time_in_force=intent.time_in_force,
        take_profit_price=intent.take_profit_price,
        stop_loss_price=intent.stop_loss_price,
        status="pending",
        filled_quantity=Decimal(0),
        average_price=None,
        reject_code=None,
        status_reason=None,
        created_at=now,
        updated_at=now,
        **_attribution_columns(intent),
    )
    try:
        connection = await session.connection()
        order_id = (await connection.execute(_INSERT_ORDER, values)).scalar_one()
        await session.commit()
    except IntegrityError:
        # A parallel request with the same client_order_id won the insert.
        await session.rollback()
        assert intent.client_order_id is not None
        existing = await _by_client_id(session, account_id, intent.client_order_id)
        if existing is None:
            raise
        return _same_or_conflict(existing, intent, leverage, margin_mode), False
    # The answer's object, never added to the session: the insert above wrote the row.
    order = TradingOrder(id=order_id, decision_id=None, **values)
    return order, True


def _check_owned(owner_id: int | None, deleted_at: datetime | None, user: Principal) -> None:
    """404 ORDER_NOT_FOUND for a missing order (``owner_id`` None) or one of a deleted
    trader, 403 FORBIDDEN for another user's."""
    if owner_id is None or deleted_at is not None:
        raise not_found("order")
    if owner_id != user.id:
        raise forbidden()


async def load_owned_order(
    session: AsyncSession, *, user: Principal, order_id: int
) -> TradingOrder:
    """The caller's order (``_check_owned``'s answers otherwise)."""
    row = (
        await session.execute(
            select(TradingOrder, Account.deleted_at)
            .join(Account, Account.id == TradingOrder.account_id)
            .where(TradingOrder.id == order_id)
        )
    ).first()
    _check_owned(row[0].user_id if row else None, row[1] if row else None, user)
    assert row is not None  # _check_owned raised otherwise
    return row[0]


@dataclass(frozen=True, slots=True)
class OrderTarget:
    """Where the caller's order executes: its trader and the trader's execution mode."""

    order_id: int
    account_id: int
    execution_mode: str


# Columns, not entities: the execute route only needs to know whose order it is and where
# it goes, and a Core row costs a fraction of loading two ORM objects.
_TARGET = select(
    TradingOrder.account_id, TradingOrder.user_id, Account.deleted_at, Account.execution_mode
).join(Account, Account.id == TradingOrder.account_id)


async def owned_order_target(
    session: AsyncSession, *, user: Principal, order_id: int
) -> OrderTarget:
    """The caller's order's trader and venue in one read (``_check_owned``'s answers)."""
    row = (await session.execute(_TARGET.where(TradingOrder.id == order_id))).first()
    _check_owned(row.user_id if row else None, row.deleted_at if row else None, user)
    assert row is not None  # _check_owned raised otherwise
    return OrderTarget(order_id, row.account_id, row.execution_mode)


def _live_orders(user_id: int) -> Select[TradingOrder]:
    return (
        select(TradingOrder)
        .join(Account, Account.id == TradingOrder.account_id)
        .where(TradingOrder.user_id == user_id, Account.deleted_at.is_(None))
    )


async def list_orders(
    session: AsyncSession,
    *,
    user: Principal,
    window: ListWindow,
    account_id: int | None = None,
    pending_only: bool = False,
) -> list[TradingOrder]:
    """The caller's orders, newest first."""
    query = _live_orders(user.id)
    if account_id is not None:
        query = query.where(TradingOrder.account_id == account_id)
    if pending_only:
        query = query.where(TradingOrder.status == "pending")
    query = query.order_by(TradingOrder.id.desc()).limit(window.limit).offset(window.offset)
    return list((await session.scalars(query)).all())


async def user_account_ids(session: AsyncSession, *, user: Principal) -> list[int]:
    query = select(Account.id).where(Account.user_id == user.id, Account.deleted_at.is_(None))
    return list((await session.scalars(query.order_by(Account.id))).all())


def bucket_start(moment: datetime, step: timedelta) -> datetime:
    if step >= timedelta(days=1):
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=(day - _A_MONDAY).days % step.days)
    seconds = int(step.total_seconds())
    minute = floor_minute(moment)
    into = (minute.hour * 3600 + minute.minute * 60) % seconds
    return minute - timedelta(seconds=into)


def curve_span(
    timeframe: Timeframe, window: ListWindow, now: datetime
) -> tuple[datetime, datetime] | None:
    """The first and last bucket a curve page shows (``asset_curve``), or None for a page
    further back than any date. Equal spans read the same snapshots."""
    step = TIMEFRAMES[timeframe]
    try:
        newest = bucket_start(now, step) - step * window.offset
        return newest - step * (window.limit - 1), newest
    except OverflowError:
        return None


async def asset_curve(
    session: AsyncSession,
    *,
    account: Account,
    timeframe: Timeframe,
    window: ListWindow,
    now: datetime,
) -> list[tuple[datetime, EquitySnapshot]]:
    """One point per bucket, oldest first: the bucket's start and the last minute snapshot
    taken in it.

    The window counts buckets back from now (``offset`` 0 ends at the current bucket), so
    the query only reads the snapshots the page can show.
    """
    span = curve_span(timeframe, window, now)
    if span is None:
        return []  # further back than any date: an empty page
    oldest, newest = span
    step = TIMEFRAMES[timeframe]
    rows = await session.scalars(
        select(EquitySnapshot)
        .where(
            EquitySnapshot.account_id == account.id,
            EquitySnapshot.taken_at >= oldest,
            EquitySnapshot.taken_at < newest + step,
        )
        .order_by(EquitySnapshot.taken_at)
    )
    last_in_bucket: dict[datetime, EquitySnapshot] = {}
    for row in rows:
        last_in_bucket[bucket_start(row.taken_at, step)] = row
    return sorted(last_in_bucket.items(), key=lambda item: item[0])
