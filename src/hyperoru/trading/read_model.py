"""A user's traders kept in memory for the read routes dashboards poll (the trader list,
overviews, positions, balances), so a poll costs no database round trip while nothing
changed.

What is cached is the committed data: the trader rows, their ledger states and fill
counts, loaded together for one user. What moves with the market is not: positions are
valued at the price cache's marks on every read (microseconds), so a copy stays good
until the user's data changes, which is when its version changes
(``hyperoru.db.versions``: bumped after every commit of a trader or ledger write, checked
before every read). Besides, a copy is dropped when the bus reports a trader event for
the user, and is never kept longer than ``ttl_seconds``: that bounds what a write that
bypasses the versions (the CLI, a runtime process without Redis) can leave behind.

A copy holds one user's traders, loaded with ``user_id =`` the caller's id; an id that is
not in the caller's copy is decided by the database (403 or 404, as ``OwnedAccount``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.accounts.presenters import AccountJson
from hyperoru.accounts.valuation import ZERO, LedgerSnapshot, Valuation, value_ledger
from hyperoru.api_types import MAX_ID
from hyperoru.auth.principal import Principal
from hyperoru.db.versions import DataVersions
from hyperoru.errors import not_found
from hyperoru.exchanges.base import BalanceReport, PositionReport
from hyperoru.paging import ListWindow
from hyperoru.trading.engine import AccountState, measure
from hyperoru.trading.fees import trader_fees
from hyperoru.trading.ledger_store import current_state
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.models import PaperLedger
from hyperoru.trading.position_reports import at_marks, position_reports
from hyperoru.trading.schemas import CurvePoint
from hyperoru.trading.service import Timeframe, asset_curve, curve_span
from hyperoru.trading.valuation import LedgerRows, ledger_rows

DEFAULT_TTL_SECONDS = 5.0
MAX_USERS = 10_000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TraderSnapshot:
    """One trader as last committed. ``account`` is detached and shared by every reader
    of the copy: read it, never change it."""

    account: Account
    state: AccountState  # at the ledger's marks (a live trader's: empty)
    trades: int
    json: AccountJson  # the account object, encoded once per change
    # A live trader's amounts from its venue's latest reading (None for paper traders):
    # they move with that reading, which bumps the version, not with our marks.
    venue: LedgerSnapshot | None = None
    # Answers computed from this copy (``remembered``); they go with it.
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class UserTraders:
    version: Hashable
    fresh_until: float
    by_id: dict[int, TraderSnapshot]  # live traders, ascending id
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)

    def default(self) -> TraderSnapshot | None:
        """The first running trader, else the first (``accounts.default_account``'s rule)."""
        for trader in self.by_id.values():
            if trader.account.status == "active":
                return trader
        return next(iter(self.by_id.values()), None)


# Remembered answers per copy: a few windows of a few price ticks; older ones are dropped.
MAX_REMEMBERED = 32


def remembered(memo: dict[Hashable, Any], key: Hashable, build: Callable[[], T]) -> T:
    """``build()``'s answer, computed once per ``key`` for as long as ``memo``'s copy
    lives. The key must name everything the answer depends on besides the copy."""
    try:
        return cast(T, memo[key])
    except KeyError:
        pass
    if len(memo) >= MAX_REMEMBERED:
        memo.clear()
    answer = memo[key] = build()
    return answer


def _forget_failed(memo: dict[Hashable, Any], key: Hashable, done: asyncio.Future[Any]) -> None:
    # A failed or cancelled load is not an answer: the next reader tries again.
    failed = done.cancelled() or done.exception() is not None
    if failed and memo.get(key) is done:
        del memo[key]


_CURVE = TypeAdapter(list[CurvePoint])


def _initial_state(account: Account, ledger: PaperLedger | None) -> AccountState:
    if ledger is None:
        return AccountState(cash=account.current_cash, max_leverage=account.max_leverage)
    return current_state(ledger, account)


async def _load(session: AsyncSession, user_id: int) -> dict[int, TraderSnapshot]:
    rows = (
        await session.scalars(
            select(Account)
            .where(Account.user_id == user_id, Account.deleted_at.is_(None))
            .order_by(Account.id)
        )
    ).all()
    ledgers = await ledger_rows(session, [a.id for a in rows])
    return {a.id: _trader(a, ledgers) for a in rows}


def _trader(account: Account, ledgers: LedgerRows) -> TraderSnapshot:
    trades = ledgers.trade_count(account.id)
    if account.execution_mode == "live":
        venue = ledgers.snapshot(account)
        empty = AccountState(cash=venue.cash, max_leverage=account.max_leverage)
        return TraderSnapshot(
            account, empty, trades, AccountJson.of(account, value_ledger(venue)), venue
        )
    state = _initial_state(account, ledgers.ledger(account.id))
    return TraderSnapshot(account, state, trades, AccountJson.of(account))


class TraderReads:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        versions: DataVersions,
        feed: MarketFeed,
        *,
        clock: Callable[[], datetime],
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._versions = versions
        self._feed = feed
        self._clock = clock
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._copies: dict[int, UserTraders] = {}
        # Concurrent misses of one user at one version share one load.
        self._loading: dict[tuple[int, Hashable], asyncio.Future[UserTraders]] = {}

    # -- the copies -----------------------------------------------------------------------

    async def traders(self, user_id: int) -> UserTraders:
        """The user's traders as of their last committed write (or later)."""
        version = await self._versions.current(user_id)
        copy = self._copies.get(user_id)
        if copy is not None and copy.version == version and copy.fresh_until > self._monotonic():
            return copy
        key = (user_id, version)
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._reload(user_id, version))
            self._loading[key] = pending
            pending.add_done_callback(lambda _: self._loading.pop(key, None))
        # Shielded: one caller hanging up must not fail the others waiting on the load.
        return await asyncio.shield(pending)

    async def _reload(self, user_id: int, version: Hashable) -> UserTraders:
        # The version was read before the load began, so a write committed meanwhile
        # leaves this copy behind its version: the next read loads again.
        fresh_until = self._monotonic() + self._ttl
        async with self._sessionmaker() as session:
            by_id = await _load(session, user_id)
        copy = UserTraders(version=version, fresh_until=fresh_until, by_id=by_id)
        if len(self._copies) >= MAX_USERS and user_id not in self._copies:
            self._copies.pop(next(iter(self._copies)))  # the oldest copy
        self._copies[user_id] = copy
        return copy

    def forget(self, user_id: int) -> None:
        self._copies.pop(user_id, None)

    async def owned(self, user: Principal, account_id: int) -> TraderSnapshot:
        """The caller's live trader ``account_id``; 404 ACCOUNT_NOT_FOUND or 403 FORBIDDEN
        exactly as ``accounts.load_owned_account``."""
        if not 1 <= account_id <= MAX_ID:
            raise not_found("account")
        found = (await self.traders(user.id)).by_id.get(account_id)
        if found is not None:
            return found
        async with self._sessionmaker() as session:
            await accounts.load_owned_account(session, user=user, account_id=account_id)
        # The database says it is the caller's: it was created after the copy was read
        # (another process, without Redis). Read again.
        self.forget(user.id)
        found = (await self.traders(user.id)).by_id.get(account_id)
        if found is None:
            raise not_found("account")
        return found

    # -- what a read shows ----------------------------------------------------------------

    async def asset_curve_json(
        self, trader: TraderSnapshot, *, timeframe: Timeframe, window: ListWindow
    ) -> bytes:
        """The trader's asset curve page (``trading.service.asset_curve``) as JSON, read
        once per copy: every write of a snapshot bumps the owner's version, so a copy's
        answer is as new as the snapshots it shows. Concurrent first readers share one
        query."""
        now = self._clock()
        span = curve_span(timeframe, window, now)
        if span is None:
            return b"[]"  # further back than any date: an empty page
        key = ("asset-curve", timeframe, span)
        loading: asyncio.Future[bytes] | None = trader.memo.get(key)
        if loading is None:
            query = self._curve_json(trader, timeframe, window, now)
            loading = remembered(trader.memo, key, lambda: asyncio.ensure_future(query))
            loading.add_done_callback(lambda done: _forget_failed(trader.memo, key, done))
        return await asyncio.shield(loading)

    async def _curve_json(
        self, trader: TraderSnapshot, timeframe: Timeframe, window: ListWindow, now: datetime
    ) -> bytes:
        async with self._sessionmaker() as session:
            rows = await asset_curve(
                session, account=trader.account, timeframe=timeframe, window=window, now=now
            )
        points = [
            CurvePoint(
                timestamp=start, equity=r.equity, cash=r.cash, positions_value=r.positions_value
            )
            for start, r in rows
        ]
        return _CURVE.dump_json(points)

    def marks(self, traders: Iterable[TraderSnapshot]) -> tuple[Decimal | None, ...]:
        """Every price the traders' valuations read: equal marks, equal valuations (so
        this, with the copy, keys a remembered answer that shows equity)."""
        mark = self._feed.cached_mark
        return tuple(mark(p.symbol) for t in traders for p in t.state.positions)

    def marked(self, trader: TraderSnapshot) -> AccountState:
        return at_marks(trader.state, self._feed.cached_mark)

    def valuation(self, trader: TraderSnapshot) -> Valuation:
        if trader.venue is not None:
            return value_ledger(trader.venue)
        positions = self.marked(trader).positions
        return value_ledger(
            LedgerSnapshot(
                cash=trader.account.current_cash,
                frozen_cash=trader.account.frozen_cash,
                positions_value=sum((p.notional for p in positions), ZERO),
                unrealized_pnl=sum((p.unrealized_pnl for p in positions), ZERO),
                total_trades=trader.trades,
            )
        )

    def equity(self, trader: TraderSnapshot) -> Decimal:
        return self.valuation(trader).equity

    async def positions(self, trader: TraderSnapshot) -> list[PositionReport]:
        config = await self._feed.config(trader.account.exchange, trader_fees(trader.account))
        return position_reports(self.marked(trader), config)

    async def balance(self, trader: TraderSnapshot) -> BalanceReport:
        config = await self._feed.config(trader.account.exchange, trader_fees(trader.account))
        metrics = measure(self.marked(trader), config)
        return BalanceReport(
            total=metrics.equity,
            available=metrics.available,
            margin_used=metrics.margin_used,
            unrealized_pnl=metrics.unrealized_pnl,
            cash=metrics.cash,
            positions_value=metrics.positions_value,
            taken_at=self._clock(),
        )
