"""The backtest metrics at their edges (found by mutation testing, scripts/mutation.py):
small balances, exactly two returns, an equity of exactly zero, a win under one dollar."""

from __future__ import annotations

import math
from decimal import Decimal
from types import SimpleNamespace

from hyperoru.replay.metrics import compute_metrics, max_drawdown_pct, sharpe_ratio


def test_drawdown_is_relative_whatever_the_size_of_the_balance() -> None:
    assert max_drawdown_pct(1.0, [0.5, 0.75]) == 50.0
    assert max_drawdown_pct(0.8, [1.0, 0.25]) == 75.0
    # No peak above zero, no drawdown (and no division by zero).
    assert max_drawdown_pct(0.0, [-5.0]) == 0.0


def test_sharpe_needs_two_returns_and_survives_an_equity_of_zero() -> None:
    # Two returns, +100% then -50%: mean 0.25, sample sd 1.0607, times sqrt(4).
    expected = 0.25 / math.sqrt(((1 - 0.25) ** 2 + (-0.5 - 0.25) ** 2) / 1) * 2
    assert sharpe_ratio(0.5, [1.0, 0.5], 4) == expected
    assert sharpe_ratio(0.5, [1.0], 4) is None
    # A bar after equity hit exactly zero counts as a zero return, not an error.
    returns = [-0.5, -1.0, 0.0]
    mean = sum(returns) / 3
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)
    assert sharpe_ratio(1.0, [0.5, 0.0, 0.25], 1) == mean / sd


def test_a_trade_that_wins_under_a_dollar_is_a_win() -> None:
    trips = [SimpleNamespace(pnl=Decimal("0.5")), SimpleNamespace(pnl=Decimal("-2"))]
    metrics = compute_metrics(
        initial_balance=Decimal(100),
        final_equity=Decimal("98.5"),
        trips=trips,  # type: ignore[arg-type]
        equity=[100.0, 97.123456789123, 99.3],
        bars_per_year=1.0,
        fees=Decimal(0),
        funding=Decimal(0),
        liquidations=0,
        decisions=2,
        rejected=0,
    )
    assert (metrics["winning_trades"], metrics["losing_trades"]) == (1, 1)
    # Ratios are reported to 10 decimals, like the other floats of the result.
    sharpe = sharpe_ratio(100.0, [100.0, 97.123456789123, 99.3], 1.0)
    assert sharpe is not None and metrics["sharpe_ratio"] == round(sharpe, 10) != sharpe
    drawdown = max_drawdown_pct(100.0, [100.0, 97.123456789123, 99.3])
    assert metrics["max_drawdown_pct"] == round(drawdown, 10) != drawdown
    assert metrics["gross_profit"] == "0.5" and metrics["profit_factor"] == "0.25000000"
