"""Trader valuations read from the paper ledger (``trading_ledgers`` and
``trading_fills``), or for a live trader from its venue's latest reading
(``trading_live_snapshots``), and the trader views every transport shows (account +
valuation). The arithmetic is ``accounts.valuation``'s; reading the ledger is trading's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.accounts.service import AccountView
from hyperoru.accounts.valuation import ZERO, LedgerSnapshot, Valuation, value_ledger
from hyperoru.trading.codec import decode_state
from hyperoru.trading.live.models import LiveAccountSnapshot
from hyperoru.trading.live.snapshot import venue_ledger
from hyperoru.trading.models import PaperLedger, TradingFill


def _paper_snapshot(account: Account, ledger: PaperLedger | None, trades: int) -> LedgerSnapshot:
    positions = decode_state(ledger.state).positions if ledger is not None else ()
    return LedgerSnapshot(
        cash=account.current_cash,
        frozen_cash=account.frozen_cash,
        positions_value=sum((p.notional for p in positions), ZERO),
        unrealized_pnl=sum((p.unrealized_pnl for p in positions), ZERO),
        total_trades=trades,
    )


@dataclass(frozen=True, slots=True)
class LedgerRows:
    """What the ledger tables hold for some traders: a missing ledger is a trader that
    never traded, a missing count none filled, a missing venue reading a trader the venue
    was never read for."""

    ledgers: dict[int, PaperLedger]
    trades: dict[int, int]
    venue_readings: dict[int, LiveAccountSnapshot]

    def ledger(self, account_id: int) -> PaperLedger | None:
        return self.ledgers.get(account_id)

    def trade_count(self, account_id: int) -> int:
        return self.trades.get(account_id, 0)

    def snapshot(self, account: Account) -> LedgerSnapshot:
        """What the trader's valuation reads: its venue's reading when it trades live."""
        trades = self.trade_count(account.id)
        if account.execution_mode == "live":
            return venue_ledger(self.venue_readings.get(account.id), trades=trades)
        return _paper_snapshot(account, self.ledger(account.id), trades)


async def ledger_rows(session: AsyncSession, account_ids: Sequence[int]) -> LedgerRows:
    """The ledgers, fill counts and venue readings of several traders (one query each,
    never one per row)."""
    if not account_ids:
        return LedgerRows({}, {}, {})
    ids = list(account_ids)
    ledgers = {
        row.account_id: row
        for row in await session.scalars(select(PaperLedger).where(PaperLedger.account_id.in_(ids)))
    }
    counts = (
        await session.execute(
            select(TradingFill.account_id, func.count())
            .where(TradingFill.account_id.in_(ids))
            .group_by(TradingFill.account_id)
        )
    ).all()
    readings = {
        row.account_id: row
        for row in await session.scalars(
            select(LiveAccountSnapshot).where(LiveAccountSnapshot.account_id.in_(ids))
        )
    }
    return LedgerRows(ledgers, {account_id: count for account_id, count in counts}, readings)


async def value_accounts(
    session: AsyncSession, *, accounts: Sequence[Account]
) -> dict[int, Valuation]:
    """Valuations for several traders at once."""
    rows = await ledger_rows(session, [a.id for a in accounts])
    return {a.id: value_ledger(rows.snapshot(a)) for a in accounts}


async def account_views(session: AsyncSession, accounts: Sequence[Account]) -> list[AccountView]:
    valuations = await value_accounts(session, accounts=accounts)
    return [AccountView(account=a, valuation=valuations[a.id]) for a in accounts]


async def account_view(session: AsyncSession, account: Account) -> AccountView:
    return (await account_views(session, [account]))[0]


async def trades_so_far(session: AsyncSession, account: Account) -> int:
    return (await value_accounts(session, accounts=[account]))[account.id].total_trades
