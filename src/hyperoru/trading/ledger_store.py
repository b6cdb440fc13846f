"""Loading, locking and saving a trader's paper ledger row, and recording engine events.

Helpers here only write: the paper client's top-level calls own each transaction, so an
execution with its fills, fees, cash and position changes commits together or not at all.

The rows every order changes (its fills, the order, the trader's cash, the ledger) are
written with Core statements prepared once, not through the ORM's unit of work: the
objects the transaction read stay clean (their new values set as committed), so the
commit has nothing left to flush. The ORM's flush of four objects cost more CPU than the
statements themselves (bench/order_profile.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hyperoru.accounts.models import Account
from hyperoru.notifications import outbox
from hyperoru.trading.codec import decode_state, encode_state
from hyperoru.trading.engine import (
    AccountState,
    EngineConfig,
    EngineResult,
    Fill,
    FundingPaid,
    Liquidated,
    OrderStatus,
    OrderUpdated,
    PositionChanged,
    advance_status,
    measure,
)
from hyperoru.trading.models import (
    EquitySnapshot,
    FundingPayment,
    Liquidation,
    PaperLedger,
    TradingFill,
    TradingOrder,
)

ZERO = Decimal(0)


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING: another process may have written the same row."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(list(rows)).on_conflict_do_nothing(index_elements=keys)
    await session.execute(statement)


def has_exposure(state: AccountState) -> bool:
    return bool(state.positions or state.open_orders or state.triggers)


def _ledger_query(account_id: int) -> Select[PaperLedger]:
    return select(PaperLedger).where(PaperLedger.account_id == account_id).with_for_update()


async def lock_existing_ledger(session: AsyncSession, account_id: int) -> PaperLedger | None:
    """The trader's ledger row locked for this transaction, or None before its first use.

    ``FOR UPDATE`` serialises writers on PostgreSQL across processes; SQLite ignores it and
    relies on the client's per-account lock (one writer process on the embedded default).
    Every change of a trader's orders, fills and cash happens under this lock, so what a
    statement reads after it is current.
    """
    return await session.scalar(_ledger_query(account_id))


async def lock_ledger(session: AsyncSession, account: Account) -> PaperLedger:
    """The trader's ledger row, created on first use, locked for this transaction."""
    row = await lock_existing_ledger(session, account.id)
    if row is not None:
        return row
    query = _ledger_query(account.id)
    fresh = AccountState(cash=account.current_cash, max_leverage=account.max_leverage)
    values = {
        "account_id": account.id,
        "state": encode_state(fresh),
        "has_exposure": False,
        "market_time": None,
        "updated_at": account.updated_at,
    }
    await insert_ignoring_duplicates(session, PaperLedger, [values], ["account_id"])
    row = await session.scalar(query.execution_options(populate_existing=True))
    assert row is not None
    return row


class ForOrder(NamedTuple):
    ledger: PaperLedger
    order: TradingOrder
    account: Account
    # Whether the owner has a chat to tell of fills (``outbox.may_have_audience``).
    may_notify: bool


async def lock_for_order(
    session: AsyncSession, *, account_id: int, order_id: int
) -> ForOrder | None:
    """What executing an order reads: the trader's ledger (created on first use) locked,
    the order (locked too), the live trader and whether its owner has a chat for fills;
    None if the order or the trader is missing or the trader is deleted.

    On PostgreSQL the ledger is locked (or created) first, in a statement of its own, as
    every writer of the trader does: one lock order, no deadlock. The order and the trader
    are read after it, so both are current (every change to them holds that lock). SQLite
    has no row locks (the client's per-account lock serialises writers), so one statement
    reads all three.
    """
    query = (
        select(TradingOrder, Account, outbox.may_have_audience(Account.user_id))
        .join(Account, Account.id == TradingOrder.account_id)
        .where(
            TradingOrder.id == order_id,
            TradingOrder.account_id == account_id,
            Account.deleted_at.is_(None),
        )
    )
    if session.get_bind().dialect.name == "sqlite":
        joined = query.add_columns(PaperLedger).outerjoin(
            PaperLedger, PaperLedger.account_id == Account.id
        )
        found = (await session.execute(joined)).first()
        if found is None:
            return None
        order, account, may_notify, ledger = found
        return ForOrder(ledger or await lock_ledger(session, account), order, account, may_notify)
    ledger = await lock_existing_ledger(session, account_id)
    if ledger is None:
        trader = await session.get(Account, account_id)
        if trader is None or trader.deleted_at is not None:
            return None
        ledger = await lock_ledger(session, trader)
    row = (await session.execute(query.with_for_update(of=TradingOrder))).first()
    return None if row is None else ForOrder(ledger, row[0], row[1], row[2])


def current_state(ledger: PaperLedger, account: Account) -> AccountState:
    """The stored state, with the trader's settings as they are now.

    Until the first fill the trader's cash column is the truth (its initial capital may
    still be edited); afterwards the ledger is.
    """
    state = decode_state(ledger.state)
    if state.last_fill_id == 0 and not has_exposure(state):
        state = dataclasses.replace(state, cash=account.current_cash)
    if state.max_leverage != account.max_leverage:
        state = dataclasses.replace(state, max_leverage=account.max_leverage)
    return state


def parent_order_id(engine_order_id: str) -> int | None:
    """Stored order ids are the engine's ids; triggers are ``<id>:tp``/``<id>:sl`` and
    liquidations ``liquidation:<n>``."""
    head = engine_order_id.split(":", 1)[0]
    return int(head) if head.isdigit() else None


@dataclass
class Recorded:
    """What a transaction wrote, for the response and for the events published after it."""

    fills: list[TradingFill] = field(default_factory=list)
    positions: list[PositionChanged] = field(default_factory=list)
    funding: list[FundingPayment] = field(default_factory=list)
    liquidated: bool = False


async def record(
    session: AsyncSession,
    *,
    account: Account,
    results: Iterable[EngineResult],
    recorded: Recorded,
    fills_stored_upto: int | None = None,
    may_notify: bool = True,
) -> None:
    """Write the events of ``results`` (in order) as rows, and advance order statuses.

    ``fills_stored_upto``: the ``last_fill_id`` of the ledger state the results were
    computed from, read under the ledger lock. A ledger's fills commit in the transaction
    that stores the state numbering them, so no fill numbered above it can be stored yet
    and those need no look-up; None checks every fill. ``may_notify``: False when this
    transaction read that the owner has no chat (``ForOrder.may_notify``).
    """
    orders: dict[int, _OrderProgress] = {}

    async def order(order_id: int) -> _OrderProgress | None:
        if order_id not in orders:
            found = await session.get(TradingOrder, order_id)
            if found is None or found.account_id != account.id:
                return None
            orders[order_id] = _OrderProgress.of(found)
        return orders[order_id]

    results = list(results)
    first_position = len(recorded.positions)
    new_fills: list[TradingFill] = []
    seen_fills, seen_funding, seen_liquidations = await _already_recorded(
        session, account.id, results, fills_stored_upto
    )
    for result in results:
        for event in result.events:
            if isinstance(event, Fill):
                if event.fill_id not in seen_fills:
                    await _record_fill(account, event, new_fills, order)
            elif isinstance(event, OrderUpdated):
                stored_id = parent_order_id(event.order_id)
                if stored_id is not None and ":" not in event.order_id:
                    stored = await order(stored_id)
                    if stored is not None:
                        stored.apply_status(event)
            elif isinstance(event, PositionChanged):
                recorded.positions.append(event)
            elif isinstance(event, FundingPaid):
                if (event.symbol, event.time) in seen_funding:
                    continue
                payment = FundingPayment(
                    account_id=account.id,
                    symbol=event.symbol,
                    time=event.time,
                    position_size=event.position_size,
                    mark_price=event.mark_price,
                    rate=event.rate,
                    payment=event.payment,
                )
                session.add(payment)
                recorded.funding.append(payment)
            elif isinstance(event, Liquidated):
                if (event.time, event.symbols) in seen_liquidations:
                    continue
                session.add(
                    Liquidation(
                        account_id=account.id,
                        time=event.time,
                        equity=event.equity,
                        maintenance_margin=event.maintenance_margin,
                        symbols=list(event.symbols),
                    )
                )
                recorded.liquidated = True
    await _insert_fills(session, new_fills)
    recorded.fills.extend(new_fills)
    for progress in orders.values():
        await progress.write(session)
    # Telegram/Discord messages of these fills commit with them (or not at all).
    await outbox.trades_recorded(
        session,
        account=account,
        fills=new_fills,
        positions=recorded.positions[first_position:],
        may_notify=may_notify,
    )
    await session.flush()


async def _already_recorded(
    session: AsyncSession,
    account_id: int,
    results: Sequence[EngineResult],
    fills_stored_upto: int | None,
) -> tuple[set[int], set[tuple[str, datetime]], set[tuple[datetime, tuple[str, ...]]]]:
    """What of ``results`` is already stored, so that replaying an engine result is a
    no-op instead of a second trade (the unique keys are the last line of defence)."""
    events = [e for r in results for e in r.events]
    fill_ids = [
        e.fill_id
        for e in events
        if isinstance(e, Fill) and (fills_stored_upto is None or e.fill_id <= fills_stored_upto)
    ]
    hours = [e.time for e in events if isinstance(e, FundingPaid)]
    liquidations = [e.time for e in events if isinstance(e, Liquidated)]
    seen_fills: set[int] = set()
    seen_funding: set[tuple[str, datetime]] = set()
    # An isolated and a cross liquidation may share a time: their symbols tell them apart.
    seen_liquidations: set[tuple[datetime, tuple[str, ...]]] = set()
    if fill_ids:
        seen_fills = set(
            await session.scalars(
                select(TradingFill.fill_id).where(
                    TradingFill.account_id == account_id, TradingFill.fill_id.in_(fill_ids)
                )
            )
        )
    if hours:
        rows = await session.execute(
            select(FundingPayment.symbol, FundingPayment.time).where(
                FundingPayment.account_id == account_id, FundingPayment.time.in_(hours)
            )
        )
        seen_funding = {(symbol, time) for symbol, time in rows}
    if liquidations:
        stored = await session.execute(
            select(Liquidation.time, Liquidation.symbols).where(
                Liquidation.account_id == account_id, Liquidation.time.in_(liquidations)
            )
        )
        seen_liquidations = {(time, tuple(symbols)) for time, symbols in stored}
    return seen_fills, seen_funding, seen_liquidations


_FILL_COLUMNS = (
    "account_id", "fill_id", "order_id", "engine_order_id", "symbol", "side", "price",
    "quantity", "fee", "realized_pnl", "liquidity", "is_liquidation", "time",
)  # fmt: skip
_FILLS = cast(Table, TradingFill.__table__)
# Matched back by the engine's fill number (unique per trader), not by position: asking
# SQLAlchemy to keep the parameters' order makes it insert row by row on SQLite.
_INSERT_FILLS = insert(_FILLS).returning(_FILLS.c.fill_id, _FILLS.c.id)


async def _insert_fills(session: AsyncSession, fills: Sequence[TradingFill]) -> None:
    """One INSERT for all of a transaction's fills; their ids set on the (transient) rows,
    which the answer, the events and the outbox read."""
    if not fills:
        return
    rows = [{key: getattr(fill, key) for key in _FILL_COLUMNS} for fill in fills]
    connection = await session.connection()
    stored = await connection.execute(_INSERT_FILLS, rows)
    ids = {fill_id: row_id for fill_id, row_id in stored}
    for fill in fills:
        fill.id = ids[fill.fill_id]


async def _record_fill(
    account: Account, fill: Fill, new_fills: list[TradingFill], order: Any
) -> None:
    stored_id = parent_order_id(fill.order_id)
    new_fills.append(
        TradingFill(
            account_id=account.id,
            fill_id=fill.fill_id,
            order_id=stored_id,
            engine_order_id=fill.order_id,
            symbol=fill.symbol,
            side=fill.side.value,
            price=fill.price,
            quantity=fill.quantity,
            fee=fill.fee,
            realized_pnl=fill.realized_pnl,
            liquidity=fill.liquidity.value,
            is_liquidation=fill.is_liquidation,
            time=fill.time,
        )
    )
    if stored_id is not None and ":" not in fill.order_id:
        stored = await order(stored_id)
        if stored is not None:
            stored.add_fill(fill.price, fill.quantity)


_ORDERS = cast(Table, TradingOrder.__table__)
_UPDATE_ORDER = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_row_id"))
    .values(
        status=bindparam("status"),
        filled_quantity=bindparam("filled_quantity"),
        average_price=bindparam("average_price"),
        reject_code=bindparam("reject_code"),
        status_reason=bindparam("status_reason"),
        updated_at=bindparam("updated_at"),
    )
)


@dataclass
class _OrderProgress:
    """What a transaction changes on a stored order: its status and fill totals."""

    row: TradingOrder
    status: str
    filled_quantity: Decimal
    average_price: Decimal | None
    reject_code: str | None
    status_reason: str | None
    updated_at: datetime
    changed: bool = False

    @classmethod
    def of(cls, row: TradingOrder) -> _OrderProgress:
        return cls(
            row,
            row.status,
            row.filled_quantity,
            row.average_price,
            row.reject_code,
            row.status_reason,
            row.updated_at,
        )

    def add_fill(self, price: Decimal, quantity: Decimal) -> None:
        # The running volume-weighted average of every fill of the order.
        done = self.filled_quantity
        total = (self.average_price or ZERO) * done + price * quantity
        self.average_price = total / (done + quantity)
        self.filled_quantity = done + quantity
        self.changed = True

    def apply_status(self, event: OrderUpdated) -> None:
        current = OrderStatus(self.status)
        if current is event.status and current is not OrderStatus.PARTIALLY_FILLED:
            return
        self.status = advance_status(current, event.status).value
        if event.status is OrderStatus.REJECTED and event.reason is not None:
            self.reject_code = str(event.reason)
        elif isinstance(event.reason, str):
            self.status_reason = event.reason
        self.updated_at = event.time
        self.changed = True

    async def write(self, session: AsyncSession) -> None:
        if not self.changed:
            return
        values = {
            "status": self.status,
            "filled_quantity": self.filled_quantity,
            "average_price": self.average_price,
            "reject_code": self.reject_code,
            "status_reason": self.status_reason,
            "updated_at": self.updated_at,
        }
        await _write_row(session, _UPDATE_ORDER, {"order_row_id": self.row.id}, self.row, values)


async def _write_row(
    session: AsyncSession,
    statement: Any,
    key: dict[str, Any],
    row: Any,
    values: dict[str, Any],
) -> None:
    """``statement`` (an UPDATE of one row by ``key``) with ``values``, which also become
    the loaded object's committed values: nothing is left for the ORM to flush."""
    connection = await session.connection()
    await connection.execute(statement, {**key, **values})
    for name, value in values.items():
        set_committed_value(row, name, value)


_LEDGERS = cast(Table, PaperLedger.__table__)
_UPDATE_LEDGER = (
    update(_LEDGERS)
    .where(_LEDGERS.c.account_id == bindparam("ledger_account_id"))
    .values(
        state=bindparam("state"),
        has_exposure=bindparam("has_exposure"),
        market_time=bindparam("market_time"),
        updated_at=bindparam("updated_at"),
    )
)
_ACCOUNTS = cast(Table, Account.__table__)
_UPDATE_CASH = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("cash_account_id"))
    .values(current_cash=bindparam("current_cash"), frozen_cash=bindparam("frozen_cash"))
)


async def save_state(
    session: AsyncSession,
    ledger: PaperLedger,
    account: Account,
    state: AccountState,
    config: EngineConfig,
    *,
    market_time: datetime,
) -> None:
    """The new state on the ledger row, and the trader's cash columns kept in step:
    ``current_cash`` is the realised balance (isolated margin included), ``frozen_cash``
    what resting orders reserve."""
    stored_time = ledger.market_time
    values = {
        "state": encode_state(state),
        "has_exposure": has_exposure(state),
        "market_time": market_time
        if stored_time is None or market_time > stored_time
        else stored_time,
        "updated_at": market_time,
    }
    cash = {"current_cash": state.balance, "frozen_cash": measure(state, config).order_margin}
    if cash != {"current_cash": account.current_cash, "frozen_cash": account.frozen_cash}:
        await _write_row(session, _UPDATE_CASH, {"cash_account_id": account.id}, account, cash)
    await _write_row(session, _UPDATE_LEDGER, {"ledger_account_id": account.id}, ledger, values)


def equity_row(
    account_id: int, state: AccountState, config: EngineConfig, taken_at: datetime
) -> dict[str, Any]:
    metrics = measure(state, config)
    return {
        "account_id": account_id,
        "taken_at": taken_at,
        "equity": metrics.equity,
        "cash": metrics.cash,
        "positions_value": metrics.positions_value,
    }


async def save_equity(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await insert_ignoring_duplicates(session, EquitySnapshot, rows, ["account_id", "taken_at"])
