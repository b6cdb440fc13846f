"""The replay's account at a snapshot (``Replay.view``), as the report types the prompt
variables read: positions, balance, valuation, and the engine's fills so far.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from hyperoru.accounts.valuation import LedgerSnapshot, value_ledger
from hyperoru.exchanges.base import BalanceReport, FillReport, PositionReport
from hyperoru.prompt_backtests.history_view import Ledger
from hyperoru.replay.prices import exact
from hyperoru.trading.engine import Fill

ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def _position(raw: Mapping[str, Any]) -> PositionReport:
    size, mark = exact(raw["size"]), exact(raw["mark_price"])
    leverage = int(raw["leverage"])
    return PositionReport(
        symbol=raw["symbol"],
        side=raw["side"],
        size=size,
        entry_price=exact(raw["entry_price"]),
        mark_price=mark,
        leverage=leverage,
        liquidation_price=None,
        unrealized_pnl=exact(raw["unrealized_pnl"]),
        margin_used=size * mark / max(1, leverage),
        opened_at=datetime.fromisoformat(raw["opened_at"].replace("Z", "+00:00")),
    )


def _report(fill: Fill) -> FillReport:
    return FillReport(
        id=fill.fill_id,
        order_id=None,  # the replay's orders are not stored orders
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


def ledger_at(view: Mapping[str, Any], moment: datetime, fills: Sequence[Fill]) -> Ledger:
    """``fills`` are the replay's, newest first (``Replay.recent_fills``)."""
    positions = [_position(p) for p in view["positions"]]
    balance = view["balance"]
    total, unrealised = exact(balance["total"]), exact(balance["unrealized_pnl"])
    positions_value = sum((p.size * p.mark_price for p in positions), ZERO)
    recent = [_report(fill) for fill in fills]
    report = BalanceReport(
        total=total,
        available=exact(balance["available"]),
        margin_used=exact(balance["margin_used"]),
        unrealized_pnl=unrealised,
        cash=total - unrealised,
        positions_value=positions_value,
        taken_at=moment,
    )
    valuation = value_ledger(
        LedgerSnapshot(
            cash=total - unrealised,
            frozen_cash=ZERO,
            positions_value=positions_value,
            unrealized_pnl=unrealised,
            total_trades=len(recent),
        )
    )
    return Ledger(positions=positions, balance=report, fills=recent, valuation=valuation)
