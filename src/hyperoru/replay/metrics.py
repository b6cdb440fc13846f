"""Backtest metrics (definitions in docs/BACKTESTS.md, section "Metrics").

Money comes from the ledger (Decimal); the Sharpe ratio and the drawdown are statistics of
the per-bar equity path and are computed in binary floating point, like any analytics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from itertools import chain
from typing import Any

from hyperoru.replay.trips import RoundTrip, plain
from hyperoru.trading.engine.money import ZERO

RATIO_QUANTUM = Decimal("1E-8")


def _ratio(value: Decimal) -> str:
    return plain(value.quantize(RATIO_QUANTUM))


def max_drawdown_pct(initial: float, equity: Sequence[float]) -> float:
    """The largest fall from a running peak, in percent of that peak, over every bar's
    close equity (the initial balance is the first peak)."""
    peak = initial
    worst = 0.0
    for value in equity:
        if value > peak:
            peak = value
        elif peak > 0:
            fall = (peak - value) / peak
            if fall > worst:
                worst = fall
    return worst * 100.0


def sharpe_ratio(initial: float, equity: Sequence[float], bars_per_year: float) -> float | None:
    """Mean over sample standard deviation of per-bar simple returns, times
    sqrt(bars per year); risk-free rate 0. None without two returns or any variation."""
    # Comprehensions rather than loops: a year of minutes is 525,600 returns.
    returns = [
        value / previous - 1.0 if previous > 0 else 0.0
        for previous, value in zip(chain((initial,), equity), equity, strict=False)
    ]
    if len(returns) < 2:
        return None
    mean = math.fsum(returns) / len(returns)
    variance = math.fsum([(r - mean) ** 2 for r in returns]) / (len(returns) - 1)
    if variance <= 0:
        return None
    return mean / math.sqrt(variance) * math.sqrt(bars_per_year)


def compute_metrics(
    *,
    initial_balance: Decimal,
    final_equity: Decimal,
    trips: Sequence[RoundTrip],
    equity: Sequence[float],
    bars_per_year: float,
    fees: Decimal,
    funding: Decimal,
    liquidations: int,
    decisions: int,
    rejected: int,
) -> dict[str, Any]:
    pnls = [t.pnl for t in trips]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit = sum(wins, ZERO)
    gross_loss = -sum(losses, ZERO)
    total_pnl = final_equity - initial_balance
    start = float(initial_balance)
    sharpe = sharpe_ratio(start, equity, bars_per_year)
    return {
        "initial_balance": plain(initial_balance),
        "final_equity": plain(final_equity),
        "total_pnl": plain(total_pnl),
        "total_pnl_percent": _ratio(total_pnl / initial_balance * 100),
        "total_trades": len(trips),
        "winning_trades": len(wins),
        "losing_trades": len(losses),
        "win_rate": _ratio(Decimal(len(wins)) / len(trips)) if trips else None,
        "profit_factor": _ratio(gross_profit / gross_loss) if gross_loss else None,
        "gross_profit": plain(gross_profit),
        "gross_loss": plain(gross_loss),
        "sharpe_ratio": None if sharpe is None else round(sharpe, 10),
        "max_drawdown_pct": round(max_drawdown_pct(start, equity), 10),
        "fees_paid": plain(fees),
        "funding_paid": plain(funding),
        "liquidations": liquidations,
        "decisions": decisions,
        "rejected_decisions": rejected,
        "bars": len(equity),
    }
