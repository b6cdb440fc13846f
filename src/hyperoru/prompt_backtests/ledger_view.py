"""The replay's account at a snapshot (``Replay.view``), as the report types the prompt
variables read: positions, balance, valuation, and the fills of the orders decided so far.
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
from hyperoru.trading.engine.money import money

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


class FillLog:
    """Fills of the orders decided at earlier snapshots, newest first, rebuilt from the
    outcomes ``Replay.submit`` returns (their ``execution`` is filled in when the order
    executes at the next bar's open). Take-profit, stop-loss and liquidation fills are
    not orders a decision placed and do not appear here; the trade list has them."""

    def __init__(self, taker_fee_pct: Decimal) -> None:
        self._taker_rate = taker_fee_pct / _HUNDRED
        self._submitted: list[tuple[dict[str, Any], PositionReport | None]] = []

    def submitted(
        self, outcomes: Sequence[dict[str, Any]], positions: Sequence[PositionReport]
    ) -> None:
        held = {p.symbol: p for p in positions}
        for outcome in outcomes:
            if outcome.get("order_id") is not None:
                self._submitted.append((outcome, held.get(outcome["symbol"])))

    def fills(self) -> list[FillReport]:
        fills: list[FillReport] = []
        for number, (outcome, held) in enumerate(self._submitted, start=1):
            execution = outcome.get("execution") or {}
            quantity = Decimal(execution.get("filled_quantity") or 0)
            if not quantity or execution.get("average_price") is None:
                continue
            price = Decimal(execution["average_price"])
            side = _side(outcome["operation"], held)
            fills.append(
                FillReport(
                    id=number,
                    order_id=None,
                    symbol=outcome["symbol"],
                    side=side,
                    price=price,
                    quantity=quantity,
                    fee=money(price * quantity * self._taker_rate),
                    realized_pnl=_realised(side, held, price, quantity),
                    liquidity="taker",
                    is_liquidation=False,
                    time=datetime.fromisoformat(execution["time"].replace("Z", "+00:00")),
                )
            )
        return fills[::-1]


def _side(operation: str, held: PositionReport | None) -> str:
    if operation == "long":
        return "buy"
    if operation == "short":
        return "sell"
    return "sell" if held is not None and held.side == "long" else "buy"


def _realised(side: str, held: PositionReport | None, price: Decimal, quantity: Decimal) -> Decimal:
    """PnL realised by the part of a fill that reduces the position held when it was
    decided (fees apart, as the ledger reports it)."""
    if held is None or (side == "sell") == (held.side == "short"):
        return ZERO
    closed = min(quantity, held.size)
    direction = 1 if held.side == "long" else -1
    return (price - held.entry_price) * closed * direction


def ledger_at(view: Mapping[str, Any], moment: datetime, fills: FillLog) -> Ledger:
    positions = [_position(p) for p in view["positions"]]
    balance = view["balance"]
    total, unrealised = exact(balance["total"]), exact(balance["unrealized_pnl"])
    positions_value = sum((p.size * p.mark_price for p in positions), ZERO)
    recent = fills.fills()
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
