"""The one place overview numbers come from: equity, positions value, total assets and
trade count. The paper engine will feed ``LedgerSnapshot`` with open positions and trade
counts; until it exists the ledger is the trader's cash columns alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    cash: Decimal
    frozen_cash: Decimal
    positions_value: Decimal = ZERO
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
    """Pure: cash held or reserved plus what the open positions are worth."""
    total = ledger.cash + ledger.frozen_cash + ledger.positions_value
    return Valuation(
        cash=ledger.cash,
        frozen_cash=ledger.frozen_cash,
        positions_value=ledger.positions_value,
        equity=total,
        total_assets=total,
        total_trades=ledger.total_trades,
    )


async def value_accounts(
    session: AsyncSession, *, accounts: Sequence[Account]
) -> dict[int, Valuation]:
    """Valuations for several traders at once (one query per source, never one per row).

    ``session`` is where the paper engine's positions and trades will be read from.
    """
    return {
        account.id: value_ledger(
            LedgerSnapshot(cash=account.current_cash, frozen_cash=account.frozen_cash)
        )
        for account in accounts
    }
