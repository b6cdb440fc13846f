"""What overview numbers mean: equity, positions value, total assets and trade count, as
pure arithmetic over a ledger snapshot. Reading the snapshot from the paper ledger
(``trading_ledgers`` and ``trading_fills``) is trading's part: ``trading/valuation.py``.

Perpetual positions are margined, not bought: cash is the realised balance, and what the
positions add is their unrealised PnL, not their notional. So equity = cash + unrealised
PnL, total_assets = equity, and ``positions_value`` is the notional of the open positions
(Σ |size| × mark), shown for exposure. ``frozen_cash`` (margin reserved by resting
orders) is part of the cash, not added to it. Marks are the ledger's, as of the trader's
last state change or minute snapshot (docs/PAPER_ENGINE.md, section 13).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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
