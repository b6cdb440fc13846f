"""analytics/metrics.py against hand-worked cases and the independent oracles
(empyrical-reloaded, scipy), with 365 periods a year told to each of them."""

from __future__ import annotations

import math
from decimal import Decimal

import empyrical
import numpy as np
import pytest
from scipy import stats

from hyperoru.analytics import metrics

A = 365
TOLERANCE = 1e-9


def _returns(seed: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.001, 0.02, n)


def _close(ours: float | None, theirs: float) -> bool:
    assert ours is not None
    return math.isclose(ours, float(theirs), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_return_statistics_agree_with_empyrical(seed: int) -> None:
    r = _returns(seed)
    assert _close(metrics.sharpe_ratio(r, A), empyrical.sharpe_ratio(r, annualization=A))
    assert _close(metrics.sortino_ratio(r, A), empyrical.sortino_ratio(r, annualization=A))
    assert _close(metrics.annual_volatility(r, A), empyrical.annual_volatility(r, annualization=A))
    assert _close(metrics.cagr(r, A), empyrical.cagr(r, annualization=A))
    assert _close(metrics.calmar_ratio(r, A), empyrical.calmar_ratio(r, annualization=A))
    path = np.concatenate(([100.0], 100.0 * np.cumprod(1 + r)))
    drawdown = metrics.max_drawdown(path)
    assert drawdown is not None
    assert _close(drawdown.max_drawdown, empyrical.max_drawdown(r))


def test_the_default_is_365_periods_a_year_not_252() -> None:
    r = _returns(7)
    assert _close(metrics.sharpe_ratio(r), empyrical.sharpe_ratio(r, annualization=365))
    assert not _close(metrics.sharpe_ratio(r), empyrical.sharpe_ratio(r))  # 252


def test_hourly_returns_annualise_with_8760() -> None:
    r = _returns(8, 100)
    assert _close(
        metrics.sharpe_ratio(r, metrics.PERIODS_PER_YEAR["1h"]),
        empyrical.sharpe_ratio(r, annualization=8760),
    )


def test_a_first_losing_period_is_a_drawdown_from_the_starting_equity() -> None:
    # [-10%, +5%, -2%]: a running peak that started at E_1 would report -2%.
    r = [-0.10, 0.05, -0.02]
    path = [100.0, 90.0, 94.5, 92.61]
    drawdown = metrics.max_drawdown(path)
    assert drawdown is not None
    assert drawdown.max_drawdown == pytest.approx(-0.10, abs=1e-15)
    assert drawdown.max_drawdown_pct == pytest.approx(10.0, abs=1e-12)
    assert (drawdown.peak, drawdown.trough, drawdown.recovery) == (0, 1, None)
    assert _close(drawdown.max_drawdown, empyrical.max_drawdown(np.array(r)))


def test_a_recovered_drawdown_names_its_recovery() -> None:
    drawdown = metrics.max_drawdown([100.0, 120.0, 90.0, 110.0, 121.0, 50.0 + 70.0])
    assert drawdown is not None
    assert (drawdown.peak, drawdown.trough, drawdown.recovery) == (1, 2, 4)
    assert drawdown.max_drawdown_pct == pytest.approx(25.0)


def test_hand_worked_sharpe_and_sortino() -> None:
    r = [0.01, -0.02, 0.03]
    mean = 0.02 / 3
    std = math.sqrt(((0.01 - mean) ** 2 + (-0.02 - mean) ** 2 + (0.03 - mean) ** 2) / 2)
    assert metrics.sharpe_ratio(r, A) == pytest.approx(mean / std * math.sqrt(A), rel=1e-12)
    # Downside deviation over all three periods: sqrt(0.02^2 / 3).
    assert metrics.sortino_ratio(r, A) == pytest.approx(
        mean / math.sqrt(0.0004 / 3) * math.sqrt(A), rel=1e-12
    )


def test_time_weighted_returns_remove_deposits() -> None:
    # 100 -> 110 with a deposit of 5 inside the period is a 5% return, not 10%.
    assert metrics.time_weighted_returns([100.0, 110.0], [5.0]).tolist() == pytest.approx([0.05])
    assert metrics.time_weighted_returns([100.0, 110.0, 99.0]).tolist() == pytest.approx(
        [0.1, -0.1]
    )


@pytest.mark.parametrize(
    "returns",
    [[], [0.05], [0.01, 0.01, 0.01], [0.0, 0.0]],
)
def test_undefined_ratios_are_none_never_nan(returns: list[float]) -> None:
    assert metrics.sharpe_ratio(returns) is None
    assert metrics.sortino_ratio(returns) is None


def test_sortino_without_a_losing_period_is_none() -> None:
    assert metrics.sortino_ratio([0.01, 0.02, 0.03]) is None


def test_ratios_are_scale_invariant_in_sign_and_size() -> None:
    r = _returns(11, 50)
    sharpe = metrics.sharpe_ratio(r)
    assert sharpe is not None
    assert metrics.sharpe_ratio(-r) == pytest.approx(-sharpe, rel=1e-12)
    assert metrics.sharpe_ratio(r * 3) == pytest.approx(sharpe, rel=1e-12)


def test_trade_statistics_by_hand() -> None:
    pnls = [Decimal("10"), Decimal("-4"), Decimal("0"), Decimal("6"), Decimal("-1")]
    result = metrics.trade_stats(pnls)
    assert (result.trades, result.wins, result.losses) == (5, 2, 2)
    assert result.win_rate == 0.4  # break-even is not a win
    assert result.profit_factor == 16 / 5
    assert (result.best, result.worst, result.total_pnl) == (Decimal(10), Decimal(-4), Decimal(11))
    no_loss = metrics.trade_stats([Decimal(1), Decimal(2)])
    assert no_loss.profit_factor is None and no_loss.win_rate == 1.0
    empty = metrics.trade_stats([])
    assert empty.win_rate is None and empty.best is None and empty.average is None


def test_percentile_and_pearson_agree_with_numpy_and_scipy() -> None:
    x, y = _returns(21, 60), _returns(22, 60)
    assert metrics.percentile(x, 99) == float(np.percentile(x, 99))
    assert _close(metrics.pearson(x, y), stats.pearsonr(x, y).statistic)
    assert metrics.pearson([1.0, 1.0], [1.0, 2.0]) is None
    assert metrics.percentile([], 50) is None


@pytest.mark.parametrize("seed", [31, 32])
def test_backtests_sharpe_and_drawdown_agree_bit_for_bit(seed: int) -> None:
    """replay/metrics.py keeps its own two functions (it sits below analytics and runs in
    the sandbox); they compute exactly what analytics.metrics computes."""
    from hyperoru.replay import metrics as replay_metrics

    equity = (10000.0 * np.cumprod(1 + _returns(seed, 300))).tolist()
    path = [10000.0, *equity]
    ours = metrics.sharpe_ratio(metrics.time_weighted_returns(path), 8760)
    assert ours == replay_metrics.sharpe_ratio(10000.0, equity, 8760)
    drawdown = metrics.max_drawdown(path)
    assert drawdown is not None
    assert drawdown.max_drawdown_pct == replay_metrics.max_drawdown_pct(10000.0, equity)
