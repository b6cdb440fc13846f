"""The one place overview numbers come from: equity, positions value, total assets and
trade count, read from the paper ledger (``trading_ledgers`` and ``trading_fills``).

Perpetual positions are margined, not bought: cash is the realised balance, and what the
positions add is their unrealised PnL, not their notional. So equity = cash + unrealised
PnL, total_assets = equity, and ``positions_value`` is the notional of the open positions
(Σ |size| × mark), shown for exposure. ``frozen_cash`` (margin reserved by resting
orders) is part of the cash, not added to it. Marks are the ledger's, as of the trader's
last state change or minute snapshot (docs/PAPER_ENGINE.md, section 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.trading.codec import decode_state
from hyperoru.trading.models import PaperLedger, TradingFill

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    cash: Decimal
    frozen_cash: Decimal
    positions_value: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    total_trades: int = 0


@dataclass(frozen=True, slots=True)
class Valuation:
    cash: Decimal
    frozen_cash: Decimal
    positions_value: Decimal
    equity: Decimal
    total_assets: Decimal
    total_trades: int


def value_ledger(ledger: LedgerSnapshot) -> Valuation:
    """Pure: the realised balance plus what the open positions would realise now."""
    equity = ledger.cash + ledger.unrealized_pnl
    return Valuation(
        cash=ledger.cash,
        frozen_cash=ledger.frozen_cash,
        positions_value=ledger.positions_value,
        equity=equity,
        total_assets=equity,
        total_trades=ledger.total_trades,
    )


def _snapshot(account: Account, ledger: PaperLedger | None, trades: int) -> LedgerSnapshot:
    positions = decode_state(ledger.state).positions if ledger is not None else ()
    return LedgerSnapshot(
        cash=account.current_cash,
        frozen_cash=account.frozen_cash,
        positions_value=sum((p.notional for p in positions), ZERO),
        unrealized_pnl=sum((p.unrealized_pnl for p in positions), ZERO),
        total_trades=trades,
    )


async def value_accounts(
    session: AsyncSession, *, accounts: Sequence[Account]
) -> dict[int, Valuation]:
    """Valuations for several traders at once (one query per source, never one per row)."""
    ids = [a.id for a in accounts]
    if not ids:
        return {}
    ledgers = {
        row.account_id: row
        for row in await session.scalars(select(PaperLedger).where(PaperLedger.account_id.in_(ids)))
    }
    counts = dict(
        (
            await session.execute(
                select(TradingFill.account_id, func.count())
                .where(TradingFill.account_id.in_(ids))
                .group_by(TradingFill.account_id)
            )
        ).all()
    )
    return {
        a.id: value_ledger(_snapshot(a, ledgers.get(a.id), counts.get(a.id, 0))) for a in accounts
    }
