"""The paper ``ExchangeClient``: the pure engine plus persistence, one transaction per change.

Every write loads the trader's ledger row under its lock, brings the state up to date
(catch-up after downtime, funding at hour boundaries), runs the engine against live
market snapshots, records the events and the new state, and commits once. Events go to
the bus only after the commit, so a subscriber never sees a trade that was rolled back.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError, not_found
from hyperoru.exchanges.base import (
    BalanceReport,
    ExecutionReport,
    ExecutionStatus,
    FillReport,
    OrderIntent,
    PositionReport,
    ProcessSummary,
)
from hyperoru.realtime.bus import EventBus
from hyperoru.realtime.events import AssetCurveEvent, PositionEvent, TradeEvent
from hyperoru.trading import schemas
from hyperoru.trading.catch_up import MINUTE, replay
from hyperoru.trading.clock import floor_hour, floor_minute
from hyperoru.trading.engine import (
    AccountState,
    EngineConfig,
    EngineResult,
    MarketSnapshot,
    OrderRequest,
    OrderStatus,
    cancel_order,
    measure,
    on_market,
    place_order,
)
from hyperoru.trading.fees import trader_fees
from hyperoru.trading.ledger_store import (
    Recorded,
    current_state,
    equity_row,
    has_exposure,
    lock_for_order,
    lock_ledger,
    record,
    save_equity,
    save_state,
)
from hyperoru.trading.locks import AccountLocks
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.models import PaperLedger, TradingFill, TradingOrder
from hyperoru.trading.order_requests import engine_request
from hyperoru.trading.position_reports import at_marks, position_reports

log = logging.getLogger("hyperoru.trading.paper")

# Longer than a few monitor ticks: a gap this long means the monitor was not running.
CATCH_UP_AFTER = timedelta(minutes=2)
# Older history is not replayed (candles that old may not be available anyway).
CATCH_UP_LIMIT = timedelta(days=7)
RESTING = ("open", "partially_filled")


def order_not_pending(order: TradingOrder) -> ApiError:
    return ApiError(
        409,
        "ORDER_NOT_PENDING",
        f"Order {order.id} is {order.status}, not pending",
        details={"status": order.status},
    )


def _request(order: TradingOrder) -> OrderRequest:
    return engine_request(order, order_id=str(order.id), leverage=order.leverage)


def _exposure_symbols(state: AccountState) -> set[str]:
    return (
        {p.symbol for p in state.positions}
        | {o.symbol for o in state.open_orders}
        | {t.symbol for t in state.triggers}
    )


def fill_report(row: TradingFill) -> FillReport:
    return FillReport(
        id=row.id,
        order_id=row.order_id,
        symbol=row.symbol,
        side=row.side,
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        realized_pnl=row.realized_pnl,
        liquidity=row.liquidity,
        is_liquidation=row.is_liquidation,
        time=row.time,
    )


# The statuses an executed order can end in (the engine never reports pending or cancelled).
_EXECUTION_STATUS: dict[OrderStatus, ExecutionStatus] = {
    OrderStatus.FILLED: "filled",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.OPEN: "open",
    OrderStatus.REJECTED: "rejected",
}


@dataclasses.dataclass
class _Progress:
    """The engine steps of one transaction, in order, and the asset-curve rows they close."""

    state: AccountState
    results: list[EngineResult] = dataclasses.field(default_factory=list)
    equity: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # The last fill number of the state read under the lock: the fills above it are new.
    stored_last_fill_id: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.stored_last_fill_id = self.state.last_fill_id

    def apply(self, result: EngineResult) -> None:
        self.results.append(result)
        self.state = result.state


async def _locked_order(session: AsyncSession, *, account_id: int, order_id: int) -> TradingOrder:
    """The trader's order, row-locked for the transaction (PostgreSQL); 404 if absent."""
    order = await session.scalar(
        select(TradingOrder)
        .where(TradingOrder.id == order_id, TradingOrder.account_id == account_id)
        .with_for_update()
    )
    if order is None:
        raise not_found("order")
    return order


class PaperExchange:
    venue = "paper"

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        feed: MarketFeed,
        clock: Callable[[], datetime],
        bus: Callable[[], EventBus | None],
        changed: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._feed = feed
        self._clock = clock
        self._bus = bus
        # Told the owner's id after every commit, before any answer leaves: cached reads
        # must see the change (hyperoru.db.versions).
        self._changed = changed
        self._locks = AccountLocks()

    @property
    def feed(self) -> MarketFeed:
        return self._feed

    def now(self) -> datetime:
        return self._clock()

    # -- writes -------------------------------------------------------------------------

    async def place(self, *, account_id: int, intent: OrderIntent) -> ExecutionReport:
        from hyperoru.trading import service  # the service imports this module's errors

        async with self._sessionmaker() as session:
            account = await self._account(session, account_id)
            order, _ = await service.create_order(
                session, feed=self._feed, account=account, intent=intent, now=self._clock()
            )
        return await self.execute(account_id=account_id, order_id=order.id)

    async def execute(self, *, account_id: int, order_id: int) -> ExecutionReport:
        """Execute a pending order. 409 ORDER_NOT_PENDING if it is not pending (any more),
        503 MARKET_DATA_UNAVAILABLE (order left pending) on a stale or missing price."""
        async with self._locks.hold(account_id), self._sessionmaker() as session:
            found = await lock_for_order(session, account_id=account_id, order_id=order_id)
            if found is None:
                await self._account(session, account_id)  # 404 for a missing trader first
                raise not_found("order")
            ledger, order, account, may_notify = found
            if order.status != "pending":
                raise order_not_pending(order)
            now = self._clock()
            config = await self._feed.config(account.exchange, trader_fees(account))
            # Fetched first: a stale price refuses the order before anything else happens.
            traded = await self._feed.snapshot(order.symbol, with_funding=False)
            progress = await self._bring_up_to_date(
                ledger, account, current_state(ledger, account), config, now, {order.symbol}
            )
            markets = self._marks(progress.state)
            markets[order.symbol] = traded
            result = place_order(
                progress.state, _request(order), markets=markets, config=config, now=now
            )
            progress.apply(result)
            recorded = await self._commit(
                session, ledger, account, progress, config, now, may_notify=may_notify
            )
        await self._publish(account, recorded, progress)
        placed = [f for f in recorded.fills if f.engine_order_id == str(order_id)]
        return ExecutionReport(
            order_id=order_id,
            execution_status=_EXECUTION_STATUS[result.status],
            fills=tuple(fill_report(f) for f in placed),
            reject_code=result.reject_code.value if result.reject_code else None,
            message=result.message,
        )

    async def cancel(self, *, account_id: int, order_id: int) -> None:
        async with self._locks.hold(account_id), self._sessionmaker() as session:
            account = await self._account(session, account_id)
            ledger = await lock_ledger(session, account)
            order = await _locked_order(session, account_id=account_id, order_id=order_id)
            now = self._clock()
            if order.status == "pending":
                order.status, order.updated_at = "cancelled", now
                await session.commit()
                return
            if order.status not in RESTING:
                raise order_not_pending(order)
            config = await self._feed.config(account.exchange, trader_fees(account))
            state = current_state(ledger, account)
            result = cancel_order(state, str(order_id), now=now)
            if result is None:
                # The monitor filled it a moment ago; the row is already final.
                raise order_not_pending(order)
            progress = _Progress(state)
            progress.apply(result)
            recorded = await self._commit(
                session, ledger, account, progress, config, ledger.market_time or now
            )
        await self._publish(account, recorded, progress)

    async def process_pending(self, *, account_ids: Sequence[int]) -> ProcessSummary:
        """Execute every pending order of these traders, oldest first. A reject or an
        order that could not be executed now (stale market) counts as failed."""
        if not account_ids:
            return ProcessSummary(0, 0, 0)
        async with self._sessionmaker() as session:
            pending = (
                await session.execute(
                    select(TradingOrder.account_id, TradingOrder.id)
                    .where(
                        TradingOrder.account_id.in_(account_ids),
                        TradingOrder.status == "pending",
                    )
                    .order_by(TradingOrder.id)
                )
            ).all()
        succeeded = failed = 0
        for account_id, order_id in pending:
            try:
                report = await self.execute(account_id=account_id, order_id=order_id)
            except ApiError:
                failed += 1
                continue
            if report.execution_status == "rejected":
                failed += 1
            else:
                succeeded += 1
        return ProcessSummary(len(pending), succeeded, failed)

    # -- the monitor's half -------------------------------------------------------------

    async def accounts_to_visit(self, *, everyone: bool) -> list[int]:
        """Traders with exposure (every tick), or every trader with a ledger (each minute)."""
        query = (
            select(PaperLedger.account_id)
            .join(Account, Account.id == PaperLedger.account_id)
            .where(Account.deleted_at.is_(None))
            .order_by(PaperLedger.account_id)
        )
        if not everyone:
            query = query.where(PaperLedger.has_exposure.is_(True))
        async with self._sessionmaker() as session:
            return list((await session.scalars(query)).all())

    async def update(self, account_id: int, *, snapshot_at: datetime | None = None) -> None:
        """Apply the market to one trader: catch-up if it was missed, funding, resting fills,
        triggers, liquidation; and, when ``snapshot_at`` is given, its asset-curve point."""
        async with self._locks.hold(account_id), self._sessionmaker() as session:
            account = await self._account(session, account_id)
            ledger = await lock_ledger(session, account)
            now = self._clock()
            config = await self._feed.config(account.exchange, trader_fees(account))
            progress = await self._bring_up_to_date(
                ledger, account, current_state(ledger, account), config, now, set()
            )
            if has_exposure(progress.state):
                symbols = _exposure_symbols(progress.state)
                markets = await self._feed.snapshots(symbols, with_funding=False)
                progress.apply(on_market(progress.state, markets, config=config, now=now))
            if snapshot_at is not None:
                progress.equity.append(equity_row(account.id, progress.state, config, snapshot_at))
            if not progress.equity and not any(r.events for r in progress.results):
                return
            recorded = await self._commit(session, ledger, account, progress, config, now)
        await self._publish(account, recorded, progress)

    async def _bring_up_to_date(
        self,
        ledger: PaperLedger,
        account: Account,
        state: AccountState,
        config: EngineConfig,
        now: datetime,
        extra_symbols: set[str],
    ) -> _Progress:
        progress = _Progress(state)
        last = ledger.market_time
        if last is not None and has_exposure(state) and now - last > CATCH_UP_AFTER:
            await self._catch_up(progress, account, config, last, now)
        settled = progress.state.funding_settled_at
        if settled is None or floor_hour(now) > settled:
            # Funding is due (or its clock must start): settle it before anything trades,
            # so fills made after the hour do not change the size that pays for it.
            symbols = {p.symbol for p in progress.state.positions} | extra_symbols
            markets = await self._feed.snapshots(symbols, with_funding=True)
            progress.apply(on_market(progress.state, markets, config=config, now=now))
        return progress

    async def _catch_up(
        self,
        progress: _Progress,
        account: Account,
        config: EngineConfig,
        last: datetime,
        now: datetime,
    ) -> None:
        start = max(floor_minute(last) + MINUTE, floor_minute(now - CATCH_UP_LIMIT))
        end = floor_minute(now)
        candles, rates = {}, {}
        for symbol in sorted(_exposure_symbols(progress.state)):
            candles[symbol], rates[symbol] = await self._feed.history(symbol, start, end)
        steps = replay(progress.state, candles=candles, rates=rates, config=config)
        for step in steps:
            progress.apply(step.result)
            if step.closes_minute:
                progress.equity.append(equity_row(account.id, step.result.state, config, step.time))
        log.info(
            "paper ledger caught up",
            extra={"account_id": account.id, "from": start.isoformat(), "minutes": len(steps) // 4},
        )

    # -- reads --------------------------------------------------------------------------

    async def _read_state(self, account_id: int) -> tuple[Account, AccountState, EngineConfig]:
        async with self._sessionmaker() as session:
            account = await self._account(session, account_id)
            ledger = await session.get(PaperLedger, account_id)
        if ledger is None:
            state = AccountState(cash=account.current_cash, max_leverage=account.max_leverage)
        else:
            state = current_state(ledger, account)
        config = await self._feed.config(account.exchange, trader_fees(account))
        return account, at_marks(state, self._feed.cached_mark), config

    async def positions(self, *, account_id: int) -> list[PositionReport]:
        _, state, config = await self._read_state(account_id)
        return position_reports(state, config)

    async def balance(self, *, account_id: int) -> BalanceReport:
        _, state, config = await self._read_state(account_id)
        metrics = measure(state, config)
        return BalanceReport(
            total=metrics.equity,
            available=metrics.available,
            margin_used=metrics.margin_used,
            unrealized_pnl=metrics.unrealized_pnl,
            cash=metrics.cash,
            positions_value=metrics.positions_value,
            taken_at=self._clock(),
        )

    async def fills(self, *, account_id: int, limit: int, offset: int) -> list[FillReport]:
        """Newest first."""
        async with self._sessionmaker() as session:
            rows = await session.scalars(
                select(TradingFill)
                .where(TradingFill.account_id == account_id)
                .order_by(TradingFill.fill_id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [fill_report(r) for r in rows]

    # -- plumbing -----------------------------------------------------------------------

    async def _account(self, session: AsyncSession, account_id: int) -> Account:
        account = await session.get(Account, account_id)
        if account is None or account.deleted_at is not None:
            raise not_found("account")
        return account

    def _marks(self, state: AccountState) -> dict[str, MarketSnapshot]:
        """Mark-only snapshots of the held symbols, so cross margin is measured at current
        marks; only the traded symbol needs a book."""
        markets = {}
        for position in state.positions:
            mark = self._feed.cached_mark(position.symbol)
            if mark is not None:
                markets[position.symbol] = MarketSnapshot(position.symbol, mark)
        return markets

    async def _commit(
        self,
        session: AsyncSession,
        ledger: PaperLedger,
        account: Account,
        progress: _Progress,
        config: EngineConfig,
        now: datetime,
        *,
        may_notify: bool = True,
    ) -> Recorded:
        recorded = Recorded()
        await record(
            session,
            account=account,
            results=progress.results,
            recorded=recorded,
            fills_stored_upto=progress.stored_last_fill_id,
            may_notify=may_notify,
        )
        await save_state(session, ledger, account, progress.state, config, market_time=now)
        await save_equity(session, progress.equity)
        await session.commit()
        return recorded

    async def _publish(self, account: Account, recorded: Recorded, progress: _Progress) -> None:
        if self._changed is not None:
            await self._changed(account.user_id)
        bus = self._bus()
        if bus is None:
            return
        user_id, account_id = account.user_id, account.id
        for fill in recorded.fills:
            data = schemas.fill_json(fill_report(fill))
            await bus.publish(TradeEvent(user_id=user_id, account_id=account_id, data=data))
        for change in recorded.positions:
            data = schemas.position_change_json(change)
            await bus.publish(PositionEvent(user_id=user_id, account_id=account_id, data=data))
        for row in progress.equity[-1:]:
            data = schemas.equity_json(row)
            await bus.publish(AssetCurveEvent(user_id=user_id, account_id=account_id, data=data))
