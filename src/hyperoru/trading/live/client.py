"""The live ``ExchangeClient``: orders through a trader's venue adapter, never lost and
never doubled.

Each order is checked against the trader's limits and the venue's rules, journalled
(``trading_live_orders``, committed) and only then sent. No database connection is held
while a venue is asked: every step reads or writes in its own short session. A refusal
marks the order rejected; an unknown outcome marks it ``unknown`` and is resolved by
asking the venue for our client id (here, and again by reconciliation), never by sending
again. After every order the venue's fills, funding and account reading are brought into
the ledger tables paper uses, in one transaction, and published after the commit.

One trader's writes run one at a time in this process (``AccountLocks``, an in-memory
lock: it holds no connection while the venue answers).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account
from hyperoru.decimal_text import readable
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
from hyperoru.exchanges.venue import (
    SymbolRules,
    Trigger,
    UnknownOutcome,
    VenueAdapter,
    VenueConnector,
    VenueCredentials,
    VenueError,
    VenueOrder,
    VenueOrderState,
)
from hyperoru.notifications import outbox
from hyperoru.realtime.bus import EventBus
from hyperoru.realtime.events import (
    AssetCurveEvent,
    OrderEvent,
    PositionEvent,
    ReconciliationNotice,
    TradeEvent,
)
from hyperoru.trading import schemas
from hyperoru.trading.live import journal, pairs
from hyperoru.trading.live.credentials import CredentialSource
from hyperoru.trading.live.event_log import event_json, record_event
from hyperoru.trading.live.ingest import ingest_fills, ingest_funding, latest_time
from hyperoru.trading.live.limits import (
    OrderToCheck,
    RiskLimits,
    Rounded,
    check_order,
    daily_loss,
    daily_loss_breached,
    round_order,
    round_price,
)
from hyperoru.trading.live.models import LiveAccountSnapshot, LiveOrder, ReconciliationEvent
from hyperoru.trading.live.snapshot import (
    SizeChange,
    balance_report,
    equity_row,
    position_reports,
    sizes,
    store_reading,
)
from hyperoru.trading.locks import AccountLocks
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.models import TradingFill, TradingOrder
from hyperoru.trading.paper_client import fill_report, order_not_pending

log = logging.getLogger("hyperoru.trading.live")
# How far the venue's clock may be behind ours when a trader's first fills are read.
CURSOR_SKEW = timedelta(minutes=2)

# How long the venue may take to show an order we sent before "it has never seen it"
# means it never arrived (venues index a new order within a second or two).
UNKNOWN_GRACE = timedelta(seconds=60)
# A venue batch is stored again when a concurrent ingest of the same trader won the race
# for its rows (each try re-reads what is stored, so a second try succeeds).
INGEST_ATTEMPTS = 3
T = TypeVar("T")


def risk_limits(account: Account) -> RiskLimits:
    return RiskLimits(
        max_leverage=account.max_leverage,
        max_order_notional=account.max_order_notional,
        max_position_notional=account.max_position_notional,
        max_daily_loss=account.max_daily_loss,
        allowed_symbols=(
            frozenset(account.allowed_symbols) if account.allowed_symbols is not None else None
        ),
    )


def venue_unavailable(exc: VenueError) -> ApiError:
    return ApiError(
        503,
        "VENUE_UNAVAILABLE",
        f"the trader's venue could not be used: {exc.message}",
        details={"venue_code": exc.code},
    )


@dataclass(frozen=True, slots=True)
class Synced:
    """What one ingest brought in."""

    fills: list[TradingFill]
    changes: list[SizeChange]
    equity: dict[str, object]
    # Orders whose state changed besides through fills (TP/SL pairs).
    touched: frozenset[int] = frozenset()

    @property
    def order_ids(self) -> set[int]:
        """Our orders this ingest changed (their updates were published with it)."""
        return {f.order_id for f in self.fills if f.order_id is not None} | self.touched


def _trigger_order(
    parent: TradingOrder, kind: str, price: Decimal, rules: SymbolRules, *, now: datetime
) -> TradingOrder:
    """A parent's take-profit or stop-loss as a reduce-only order of the opposite side
    (its trigger price is in ``take_profit_price`` or ``stop_loss_price``)."""
    return TradingOrder(
        account_id=parent.account_id,
        user_id=parent.user_id,
        client_order_id=f"{kind}-of-{parent.id}",
        name=f"{kind}:{parent.id}",
        symbol=parent.symbol,
        side="sell" if parent.side == "buy" else "buy",
        order_type="market",
        quantity=parent.filled_quantity,
        price=None,
        leverage=parent.leverage,
        reduce_only=True,
        time_in_force="gtc",
        take_profit_price=price if kind == "tp" else None,
        stop_loss_price=price if kind == "sl" else None,
        status="pending",
        filled_quantity=Decimal(0),
        average_price=None,
        reject_code=None,
        status_reason=None,
        created_at=now,
        updated_at=now,
    )


class LiveExchange:
    venue = "live"

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        feed: MarketFeed,
        connector: Callable[[], VenueConnector],
        credentials: CredentialSource,
        clock: Callable[[], datetime],
        bus: Callable[[], EventBus | None],
        changed: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._feed = feed
        self._connector = connector
        # Replaceable: the credentials store plugs in here (tests: MemoryCredentials).
        self.credentials = credentials
        self._clock = clock
        self._bus = bus
        self._changed = changed
        self._locks = AccountLocks()
        self._adapters: dict[int, tuple[VenueCredentials, VenueAdapter]] = {}
        self.unknown_grace = UNKNOWN_GRACE

    @property
    def feed(self) -> MarketFeed:
        return self._feed

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self._sessionmaker

    def now(self) -> datetime:
        return self._clock()

    # -- venues -------------------------------------------------------------------------

    async def adapter(self, account_id: int) -> VenueAdapter:
        """The trader's open adapter (re-opened when its credentials change).
        409 EXCHANGE_CREDENTIALS_MISSING, 503 VENUE_UNAVAILABLE."""
        credentials = await self.credentials.for_trader(account_id)
        if credentials is None:
            raise ApiError(
                409,
                "EXCHANGE_CREDENTIALS_MISSING",
                "this live trader has no exchange credentials; add them with "
                "PUT /api/account/{id}/exchange",
                details={"account_id": account_id},
            )
        cached = self._adapters.get(account_id)
        if cached is not None and cached[0] == credentials:
            return cached[1]
        if cached is not None:
            await cached[1].aclose()
        try:
            opened = self._connector()(credentials)
        except VenueError as exc:
            raise venue_unavailable(exc) from exc
        self._adapters[account_id] = (credentials, opened)
        return opened

    def hold(self, account_id: int) -> AbstractAsyncContextManager[None]:
        """The trader's lock in this process: its orders, cancels and reconciliation run
        one at a time (reconciliation must not read an order being sent as unresolved)."""
        return self._locks.hold(account_id)

    @staticmethod
    async def ask(call: Awaitable[T]) -> T:
        """A venue read: a venue error becomes 503 VENUE_UNAVAILABLE."""
        try:
            return await call
        except VenueError as exc:
            raise venue_unavailable(exc) from exc

    async def aclose(self) -> None:
        adapters, self._adapters = self._adapters, {}
        for _, adapter in adapters.values():
            try:
                await adapter.aclose()
            except Exception:
                log.exception("closing a venue adapter failed")

    # -- writes -------------------------------------------------------------------------

    async def place(self, *, account_id: int, intent: OrderIntent) -> ExecutionReport:
        from hyperoru.trading import service  # the service imports the paper client

        async with self._sessionmaker() as session:
            account = await self._account(session, account_id)
            order, _ = await service.create_order(
                session, feed=self._feed, account=account, intent=intent, now=self._clock()
            )
        return await self.execute(account_id=account_id, order_id=order.id)

    async def execute(self, *, account_id: int, order_id: int) -> ExecutionReport:
        """Check, journal, send, learn the outcome, ingest. 409 ORDER_NOT_PENDING when the
        order was sent already (or finished); 422 when a limit refuses it (the order is
        then rejected with that code); 409 EXCHANGE_CREDENTIALS_MISSING, 503 VENUE_UNAVAILABLE
        before anything was sent."""
        async with self._locks.hold(account_id):
            report = await self._execute(account_id, order_id)
        try:
            await self.enforce_daily_loss(account_id)
        except ApiError as exc:  # the order's answer stands; the monitor checks again
            log.warning(
                "daily-loss check after an order failed",
                extra={"account_id": account_id, "code": exc.code},
            )
        return report

    async def _execute(self, account_id: int, order_id: int) -> ExecutionReport:
        async with self._sessionmaker() as session:
            account = await self._account(session, account_id)
            order = await self._order(session, account_id, order_id)
            if order.status != "pending" or await journal.entry_of(session, order_id):
                raise order_not_pending(order)
            limits, user_id = risk_limits(account), account.user_id
            snapshot = await session.get(LiveAccountSnapshot, account_id)
            to_check = OrderToCheck(
                symbol=order.symbol,
                side="buy" if order.side == "buy" else "sell",
                order_type="limit" if order.order_type == "limit" else "market",
                quantity=order.quantity,
                price=order.price,
                leverage=order.leverage,
                reduce_only=order.reduce_only,
            )
        adapter = await self.adapter(account_id)
        rules = (await self.ask(adapter.rules())).get(to_check.symbol)
        if snapshot is None:
            await self.sync(account_id, user_id=user_id)
            async with self._sessionmaker() as session:
                snapshot = await session.get(LiveAccountSnapshot, account_id)
        assert snapshot is not None
        reference = to_check.price or await self._reference(to_check.symbol, snapshot)
        verdict = check_order(
            to_check,
            limits=limits,
            rules=rules,
            reference=reference,
            position_size=sizes(snapshot).get(to_check.symbol, Decimal(0)),
            loss_today=daily_loss(snapshot.day_start_equity, snapshot.equity),
        )
        if isinstance(verdict, ApiError):
            await self._refuse(account_id, order_id, verdict, user_id)
            raise verdict
        sent = await self._journal(account_id, order_id, verdict, adapter.venue)
        state = await self._send(adapter, sent)
        await self._learn(account_id, order_id, state)
        published = await self._sync_after_sending(account_id, user_id)
        children = []
        if rules is not None:
            children = await self._attach_triggers(account_id, order_id, adapter, rules)
        await self.publish_orders(user_id, account_id, ({order_id} - published) | set(children))
        return await self._report(order_id)

    async def _sync_after_sending(self, account_id: int, user_id: int) -> set[int]:
        """The fills of what was just sent; the orders whose updates went out with them.
        The order is out and recorded: a venue that fails this read leaves the fills to
        the live monitor's next refresh, and the caller still gets the order's answer."""
        try:
            return (await self.sync(account_id, user_id=user_id)).order_ids
        except ApiError as exc:
            log.warning(
                "fills not read after sending",
                extra={"account_id": account_id, "code": exc.code},
            )
            return set()

    async def _attach_triggers(
        self, account_id: int, order_id: int, adapter: VenueAdapter, rules: SymbolRules
    ) -> list[int]:
        """The order's take-profit and stop-loss as the venue's own reduce-only trigger
        orders for what was filled, each an order of ours (``tp-of-<id>``/``sl-of-<id>``),
        journalled and sent like any other."""
        async with self._sessionmaker() as session:
            parent = await self._order(session, account_id, order_id)
            if parent.reduce_only or parent.filled_quantity <= 0:
                return []
            wanted = [
                (kind, price)
                for kind, price in (
                    ("tp", parent.take_profit_price),
                    ("sl", parent.stop_loss_price),
                )
                if price is not None
            ]
            children = []
            for kind, price in wanted:
                client_id = f"{kind}-of-{parent.id}"
                if await session.scalar(
                    select(TradingOrder.id).where(
                        TradingOrder.account_id == account_id,
                        TradingOrder.client_order_id == client_id,
                    )
                ):
                    continue
                child = _trigger_order(parent, kind, price, rules, now=self._clock())
                session.add(child)
                await session.flush()
                entry = journal.open_entry(child, venue=adapter.venue, now=self._clock())
                session.add(entry)
                worst = round_order(
                    OrderToCheck(
                        symbol=child.symbol,
                        side="buy" if child.side == "buy" else "sell",
                        order_type="market",
                        quantity=child.quantity,
                        price=None,
                        leverage=child.leverage,
                        reduce_only=True,
                    ),
                    rules,
                    price,
                ).price
                children.append(
                    (
                        child.id,
                        VenueOrder(
                            client_order_id=entry.venue_client_id,
                            symbol=child.symbol,
                            side="buy" if child.side == "buy" else "sell",
                            order_type="market",
                            quantity=child.quantity,
                            price=worst,
                            reduce_only=True,
                            trigger=Trigger(
                                kind="tp" if kind == "tp" else "sl",
                                trigger_price=round_price(price, rules, up=False),
                            ),
                        ),
                    )
                )
            await session.commit()
        for child_id, sent in children:
            await self._learn(account_id, child_id, await self._send(adapter, sent))
        return [child_id for child_id, _ in children]

    async def _reference(self, symbol: str, snapshot: LiveAccountSnapshot) -> Decimal:
        """The price a market order is measured and capped at: the venue's mark of a held
        position, else the market feed's."""
        for position in snapshot.positions:
            if position["symbol"] == symbol and position["mark_price"] is not None:
                return Decimal(position["mark_price"])
        mark = self._feed.cached_mark(symbol)
        if mark is not None:
            return mark
        return (await self._feed.snapshot(symbol, with_funding=False)).mark_price

    async def _refuse(
        self, account_id: int, order_id: int, refusal: ApiError, user_id: int
    ) -> None:
        async with self._sessionmaker() as session:
            order = await self._order(session, account_id, order_id)
            now = self._clock()
            order.status, order.reject_code = "rejected", refusal.code[:32]
            order.status_reason, order.updated_at = refusal.message[:500], now
            await session.commit()
        await self.tell_changed(user_id)
        await self.publish_orders(user_id, account_id, {order_id})

    async def _journal(
        self, account_id: int, order_id: int, rounded: Rounded, venue: str
    ) -> VenueOrder:
        """Write the journal row and commit it: from here on a crash leaves a row that
        reconciliation resolves by asking the venue."""
        async with self._sessionmaker() as session:
            order = await self._order(session, account_id, order_id)
            order.quantity = rounded.quantity
            if order.order_type == "limit":
                order.price = rounded.price
            entry = journal.open_entry(order, venue=venue, now=self._clock())
            session.add(entry)
            try:
                await session.commit()
            except IntegrityError:
                # Another process journalled this order first: it sends it, not us.
                await session.rollback()
                raise order_not_pending(await self._order(session, account_id, order_id)) from None
            return VenueOrder(
                client_order_id=entry.venue_client_id,
                symbol=order.symbol,
                side="buy" if order.side == "buy" else "sell",
                order_type="limit" if order.order_type == "limit" else "market",
                quantity=rounded.quantity,
                # A market order's worst price is set by the adapter from the venue's own
                # mid: our feed may be another network's market (mainnet data while
                # trading on testnet) and only prices the notional checks above.
                price=rounded.price if order.order_type == "limit" else None,
                reduce_only=order.reduce_only,
                time_in_force=(
                    "ioc" if order.order_type == "market" else order.time_in_force  # type: ignore[arg-type]
                ),
            )

    async def _send(
        self, adapter: VenueAdapter, order: VenueOrder
    ) -> VenueOrderState | VenueError | None:
        """The venue's answer: its state of the order, its refusal, or None when the
        outcome is unknown even after asking for our id once."""
        try:
            return await adapter.submit(order)
        except VenueError as exc:
            return exc
        except Exception as exc:  # UnknownOutcome, or a transport error after sending
            reason = str(exc) or type(exc).__name__
            log.warning(
                "live order outcome unknown",
                extra={"client_order_id": order.client_order_id, "reason": reason},
            )
        try:
            return await adapter.order_status(
                symbol=order.symbol, client_order_id=order.client_order_id
            )
        except (VenueError, UnknownOutcome):
            return None

    async def _learn(
        self, account_id: int, order_id: int, answer: VenueOrderState | VenueError | None
    ) -> None:
        async with self._sessionmaker() as session:
            order = await self._order(session, account_id, order_id)
            entry = await session.get(LiveOrder, order_id)
            assert entry is not None
            now = self._clock()
            if isinstance(answer, VenueError):
                code = journal.REJECT_CODE.get(answer.code, answer.code)
                journal.mark_rejected(entry, order, code=code, reason=answer.message, now=now)
            elif answer is None:
                journal.mark_unknown(entry, now=now, reason="no answer; resolved by asking")
            else:
                journal.apply_state(entry, order, answer, now=now)
            await session.commit()

    async def _report(self, order_id: int) -> ExecutionReport:
        async with self._sessionmaker() as session:
            order, entry = await journal.journalled(session, order_id)
            fills = await session.scalars(
                select(TradingFill).where(TradingFill.order_id == order_id).order_by(TradingFill.id)
            )
            reports = tuple(fill_report(f) for f in fills)
        status: ExecutionStatus
        if order.status == "rejected":
            status = "rejected"
        elif order.status == "filled":
            status = "filled"
        elif order.filled_quantity > 0:
            status = "partially_filled"
        else:
            status = "open"  # resting, or sent with its outcome still unknown
        message = entry.reason if entry.submit_state in ("unknown", "rejected") else None
        return ExecutionReport(
            order_id=order_id,
            execution_status=status,
            fills=reports,
            reject_code=order.reject_code if status == "rejected" else None,
            message=message or (order.status_reason if status == "rejected" else None),
        )

    async def cancel(self, *, account_id: int, order_id: int) -> None:
        async with self._locks.hold(account_id):
            async with self._sessionmaker() as session:
                account = await self._account(session, account_id)
                order = await self._order(session, account_id, order_id)
                entry = await session.get(LiveOrder, order_id)
                user_id, symbol = account.user_id, order.symbol
                if order.status == "pending" and entry is None:
                    order.status, order.updated_at = "cancelled", self._clock()
                    await session.commit()
                    await self.tell_changed(user_id)
                    return
                if entry is None or order.status not in journal.RESTING:
                    raise order_not_pending(order)
                client_id = entry.venue_client_id
            adapter = await self.adapter(account_id)
            state = await self.ask(adapter.cancel(symbol=symbol, client_order_id=client_id))
            if state is not None:
                await self._learn(account_id, order_id, state)
            synced = await self.sync(account_id, user_id=user_id)
            await self.publish_orders(user_id, account_id, {order_id} - synced.order_ids)

    async def cancel_everything(self, account_id: int) -> int:
        """Every open order of the trader's venue account cancelled (ours and any other),
        our records brought up to date; how many the venue cancelled. Orders never sent
        are cancelled here."""
        adapter = await self.adapter(account_id)
        async with self._locks.hold(account_id):
            cancelled = await self.ask(adapter.cancel_all())
            async with self._sessionmaker() as session:
                account = await self._account(session, account_id)
                user_id = account.user_id
                pending = await session.scalars(
                    select(TradingOrder)
                    .outerjoin(LiveOrder, LiveOrder.order_id == TradingOrder.id)
                    .where(
                        TradingOrder.account_id == account_id,
                        TradingOrder.status == "pending",
                        LiveOrder.order_id.is_(None),
                    )
                )
                never_sent = set()
                for order in pending:
                    order.status, order.updated_at = "cancelled", self._clock()
                    never_sent.add(order.id)
                working = [
                    (order.id, order.symbol, entry.venue_client_id)
                    for entry, order in await journal.resting(session, account_id)
                ]
                await session.commit()
            for order_id, symbol, client_id in working:
                state = await self.ask(
                    adapter.order_status(symbol=symbol, client_order_id=client_id)
                )
                if state is not None:
                    await self._learn(account_id, order_id, state)
            synced = await self.sync(account_id, user_id=user_id)
            touched = never_sent | {order_id for order_id, _, _ in working}
            await self.publish_orders(user_id, account_id, touched - synced.order_ids)
        return cancelled

    async def process_pending(self, *, account_ids: Sequence[int]) -> ProcessSummary:
        if not account_ids:
            return ProcessSummary(0, 0, 0)
        async with self._sessionmaker() as session:
            pending = (
                await session.execute(
                    select(TradingOrder.account_id, TradingOrder.id)
                    .outerjoin(LiveOrder, LiveOrder.order_id == TradingOrder.id)
                    .where(
                        TradingOrder.account_id.in_(account_ids),
                        TradingOrder.status == "pending",
                        LiveOrder.order_id.is_(None),
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

    # -- ingest -------------------------------------------------------------------------

    async def sync(self, account_id: int, *, user_id: int) -> Synced:
        """The venue's fills and funding since the cursors, and its account reading, into
        the ledger in one transaction; events published after the commit."""
        adapter = await self.adapter(account_id)
        now = self._clock()
        async with self._sessionmaker() as session:
            snapshot = await session.get(LiveAccountSnapshot, account_id)
            if snapshot is not None:
                fills_since, funding_since = snapshot.fills_since, snapshot.funding_since
            else:
                fills_since = funding_since = await self._first_cursor(session, account_id, now)
            triggers = await pairs.working_triggers(session, account_id)
        # Asked before the fills: a venue may report a fired trigger's fills under an
        # order of its own (Binance), which the adapter ties to ours from this answer.
        trigger_states = {
            t.order_id: await self.ask(
                adapter.order_status(symbol=t.symbol, client_order_id=t.venue_client_id)
            )
            for t in triggers
        }
        fills = await self.ask(adapter.fills(since=fills_since))
        funding = await self.ask(adapter.funding(since=funding_since))
        reading = await self.ask(adapter.account())
        for attempt in range(1, INGEST_ATTEMPTS + 1):
            try:
                async with self._sessionmaker() as session:
                    rows = await ingest_fills(
                        session,
                        account_id=account_id,
                        fills=fills,
                        positions=reading.positions,
                    )
                    await ingest_funding(session, account_id=account_id, payments=funding)
                    stored, changes = await store_reading(
                        session,
                        account_id=account_id,
                        venue=adapter.venue,
                        reading=reading,
                        now=now,
                        first_cursor=fills_since,
                    )
                    stored.fills_since = latest_time(fills, fills_since)
                    stored.funding_since = max((f.time for f in funding), default=funding_since)
                    await session.commit()
                break
            except IntegrityError:
                # Another ingest of this trader (another process, or a read taking the
                # first reading) committed some of these rows first: the batch is
                # idempotent, so store it again, skipping what is there now.
                if attempt == INGEST_ATTEMPTS:
                    raise
                log.info(
                    "live ingest raced another; storing again", extra={"account_id": account_id}
                )
        touched = await self._settle_pairs(adapter, account_id, trigger_states)
        synced = Synced(rows, changes, equity_row(account_id, reading, now), touched)
        await self._publish(user_id, account_id, synced)
        return synced

    async def _settle_pairs(
        self,
        adapter: VenueAdapter,
        account_id: int,
        states: dict[int, VenueOrderState | None],
    ) -> frozenset[int]:
        """The TP/SL orders' venue states onto ours, then the other half of each pair one
        side of which filled in full cancelled at the venue; the orders that changed."""
        if not states:
            return frozenset()
        touched = set()
        async with self._sessionmaker() as session:
            now = self._clock()
            for order_id, state in states.items():
                order, entry = await journal.journalled(session, order_id)
                if state is not None and journal.apply_state(entry, order, state, now=now):
                    touched.add(order_id)
            await session.commit()
            siblings = await pairs.siblings_to_cancel(session, account_id)
        for sibling in siblings:
            try:
                state = await adapter.cancel(
                    symbol=sibling.symbol, client_order_id=sibling.venue_client_id
                )
            except (VenueError, UnknownOutcome) as exc:
                log.warning(
                    "the other half of a TP/SL pair is not cancelled yet (next ingest retries)",
                    extra={
                        "account_id": account_id,
                        "order_id": sibling.order_id,
                        "error": str(exc),
                    },
                )
                continue
            if state is not None:
                await self._learn(account_id, sibling.order_id, state)
                touched.add(sibling.order_id)
        return frozenset(touched)

    async def _first_cursor(
        self, session: AsyncSession, account_id: int, now: datetime
    ) -> datetime:
        """Where a trader's first ingest starts: its first journalled order, else now (a
        venue account's older history is not ours), less ``CURSOR_SKEW``: the cursor is
        compared with the venue's times, and a venue clock behind ours must not hide the
        first fills (fill ids make the overlap harmless)."""
        first = await session.scalar(
            select(LiveOrder.created_at)
            .where(LiveOrder.account_id == account_id)
            .order_by(LiveOrder.created_at)
            .limit(1)
        )
        return (min(first, now) if first is not None else now) - CURSOR_SKEW

    async def _publish(self, user_id: int, account_id: int, synced: Synced) -> None:
        await self.tell_changed(user_id)
        bus = self._bus()
        if bus is None:
            return
        for fill in synced.fills:
            data = schemas.fill_json(fill_report(fill))
            await bus.publish(TradeEvent(user_id=user_id, account_id=account_id, data=data))
        for change in synced.changes:
            await bus.publish(
                PositionEvent(user_id=user_id, account_id=account_id, data=change.json())
            )
        await self.publish_orders(user_id, account_id, synced.order_ids)
        await bus.publish(
            AssetCurveEvent(
                user_id=user_id, account_id=account_id, data=schemas.equity_json(synced.equity)
            )
        )

    async def publish_orders(self, user_id: int, account_id: int, order_ids: set[int]) -> None:
        """Each order's state as committed, on the ``orders`` channel (its REST object
        with the journal's ``submit_state`` and the venue's order id)."""
        bus = self._bus()
        if bus is None or not order_ids:
            return
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(TradingOrder, LiveOrder)
                    .outerjoin(LiveOrder, LiveOrder.order_id == TradingOrder.id)
                    .where(TradingOrder.id.in_(order_ids), TradingOrder.account_id == account_id)
                    .order_by(TradingOrder.id)
                )
            ).all()
        for order, entry in rows:
            data = schemas.OrderOut.of(order).model_dump(mode="json")
            data["submit_state"] = entry.submit_state if entry is not None else None
            data["venue_order_id"] = entry.venue_order_id if entry is not None else None
            await bus.publish(OrderEvent(user_id=user_id, account_id=account_id, data=data))

    async def publish_events(
        self, user_id: int, account_id: int, events: Sequence[ReconciliationEvent]
    ) -> None:
        """Reconciliation events, once committed, on the ``reconciliation`` channel."""
        bus = self._bus()
        if bus is None:
            return
        for event in events:
            await bus.publish(
                ReconciliationNotice(user_id=user_id, account_id=account_id, data=event_json(event))
            )

    async def owner_of(self, account_id: int) -> int:
        async with self._sessionmaker() as session:
            return (await self._account(session, account_id)).user_id

    async def tell_changed(self, user_id: int) -> None:
        if self._changed is not None:
            await self._changed(user_id)

    # -- the daily-loss limit -----------------------------------------------------------

    async def enforce_daily_loss(self, account_id: int) -> bool:
        """Pause a trader whose loss today reached ``max_daily_loss`` (and close its
        positions when ``flatten_on_daily_loss``); True when this call paused it."""
        now = self._clock()
        async with self._sessionmaker() as session:
            account = await session.get(Account, account_id)
            snapshot = await session.get(LiveAccountSnapshot, account_id)
            if account is None or snapshot is None or account.status != "active":
                return False
            loss = daily_loss(snapshot.day_start_equity, snapshot.equity)
            if not daily_loss_breached(risk_limits(account), loss):
                return False
            if not await outbox.lock_running(session, account_id):
                return False  # paused meanwhile by something else
            account.status = "error"
            account.status_reason = (
                f"paused: today's loss {readable(loss)} reached max_daily_loss "
                f"{readable(account.max_daily_loss or Decimal(0))}"
            )[:500]
            account.updated_at = now
            flatten, user_id = account.flatten_on_daily_loss, account.user_id
            breach = await record_event(
                session,
                account_id=account_id,
                user_id=user_id,
                kind="daily_loss",
                message=account.status_reason,
                now=now,
                details={"loss": str(loss), "flatten": flatten},
            )
            await outbox.trader_paused(session, account=account, cause="daily_loss")
            await session.commit()
        log.warning("live trader paused at its daily loss limit", extra={"account_id": account_id})
        await self.tell_changed(user_id)
        await self.publish_events(user_id, account_id, [breach] if breach else [])
        if flatten:
            await self.flatten(account_id)
        return True

    async def flatten(self, account_id: int) -> list[ExecutionReport]:
        """Close every position with reduce-only market orders, through the journal."""
        reports = []
        for position in await self.positions(account_id=account_id, fresh=True):
            intent = OrderIntent(
                symbol=position.symbol,
                side="sell" if position.side == "long" else "buy",
                order_type="market",
                quantity=position.size,
                reduce_only=True,
                name="flatten",
            )
            reports.append(await self.place(account_id=account_id, intent=intent))
        return reports

    # -- reads --------------------------------------------------------------------------

    async def _snapshot(self, account_id: int, *, fresh: bool) -> LiveAccountSnapshot:
        async with self._sessionmaker() as session:
            account = await self._account(session, account_id)
            user_id = account.user_id
            snapshot = None if fresh else await session.get(LiveAccountSnapshot, account_id)
        if snapshot is None:
            await self.sync(account_id, user_id=user_id)
            async with self._sessionmaker() as session:
                snapshot = await session.get(LiveAccountSnapshot, account_id)
        assert snapshot is not None
        return snapshot

    async def positions(self, *, account_id: int, fresh: bool = False) -> list[PositionReport]:
        """From the latest stored reading (taken now when there is none, or ``fresh``)."""
        return position_reports(await self._snapshot(account_id, fresh=fresh))

    async def balance(self, *, account_id: int) -> BalanceReport:
        return balance_report(await self._snapshot(account_id, fresh=False))

    async def fills(self, *, account_id: int, limit: int, offset: int) -> list[FillReport]:
        """Newest first (the ledger table paper uses)."""
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

    async def _order(self, session: AsyncSession, account_id: int, order_id: int) -> TradingOrder:
        order = await session.get(TradingOrder, order_id)
        if order is None or order.account_id != account_id:
            raise not_found("order")
        return order
