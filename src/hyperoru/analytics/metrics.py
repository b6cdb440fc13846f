"""Performance metrics of returns, equity paths and closed trades. Pure: numpy and the
standard library only, no I/O, no clock, so live analytics, backtests and factors share
one definition of every number (docs/ANALYTICS.md states each formula).

Every function answers ``None`` where the number is undefined (too few returns, no
variation, no losing trade): never ``NaN`` or an infinity, which JSON cannot carry.
Sums use ``math.fsum`` (exactly rounded), so a result does not depend on the order or
the chunking of the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

# Crypto trades every day of the year; the reference libraries default to 252 trading days.
DEFAULT_PERIODS_PER_YEAR = 365
PERIODS_PER_YEAR: dict[str, int] = {"1h": 8760, "1d": 365, "1w": 52}

FloatArray = npt.NDArray[np.float64]


def _array(values: Sequence[float] | FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def time_weighted_returns(
    equity: Sequence[float] | FloatArray, flows: Sequence[float] | FloatArray | None = None
) -> FloatArray:
    """``r_t = (E_t - F_t) / E_{t-1} - 1`` for t = 1..N, where ``equity`` is E_0..E_N
    and ``flows`` F_1..F_N the net external flow (deposits positive) in each period, so
    money moved in or out is not a return. A period starting at E_{t-1} <= 0 has no
    defined return and is left out."""
    values = _array(equity)
    if values.size < 2:
        return np.empty(0, dtype=np.float64)
    previous, current = values[:-1], values[1:]
    if flows is not None:
        moved = _array(flows)
        if moved.shape != current.shape:
            raise ValueError("flows needs one value per period (len(equity) - 1)")
        current = current - moved
    defined = previous > 0
    return np.asarray(current[defined] / previous[defined] - 1.0, dtype=np.float64)


def _mean(values: FloatArray) -> float:
    return math.fsum(values.tolist()) / values.size


def _sample_std(values: FloatArray, mean: float) -> float:
    deviations = (values - mean) ** 2
    return math.sqrt(math.fsum(deviations.tolist()) / (values.size - 1))


def sharpe_ratio(
    returns: Sequence[float] | FloatArray,
    periods_per_year: float = DEFAULT_PERIODS_PER_YEAR,
    risk_free: float = 0.0,
) -> float | None:
    """mean(r - rf) / std(r - rf, ddof=1) * sqrt(A); None with fewer than 2 returns or
    no variation (``risk_free`` is per period)."""
    excess = _array(returns) - risk_free
    if excess.size < 2:
        return None
    mean = _mean(excess)
    std = _sample_std(excess, mean)
    if std <= 0:
        return None
    return _finite(mean / std * math.sqrt(periods_per_year))


def sortino_ratio(
    returns: Sequence[float] | FloatArray,
    periods_per_year: float = DEFAULT_PERIODS_PER_YEAR,
    required_return: float = 0.0,
) -> float | None:
    """mean(r - MAR) / DD * sqrt(A) with DD = sqrt(mean(min(r - MAR, 0)^2)) over all N
    periods (not only the losing ones); None with fewer than 2 returns or DD = 0."""
    excess = _array(returns) - required_return
    if excess.size < 2:
        return None
    downside = np.minimum(excess, 0.0) ** 2
    risk = math.sqrt(math.fsum(downside.tolist()) / excess.size)
    if risk <= 0:
        return None
    return _finite(_mean(excess) / risk * math.sqrt(periods_per_year))


def annual_volatility(
    returns: Sequence[float] | FloatArray, periods_per_year: float = DEFAULT_PERIODS_PER_YEAR
) -> float | None:
    """std(r, ddof=1) * sqrt(A); None with fewer than 2 returns."""
    values = _array(returns)
    if values.size < 2:
        return None
    return _finite(_sample_std(values, _mean(values)) * math.sqrt(periods_per_year))


def cagr(
    returns: Sequence[float] | FloatArray, periods_per_year: float = DEFAULT_PERIODS_PER_YEAR
) -> float | None:
    """(E_N / E_0) ^ (A / N) - 1 from N compounded returns; None without returns or when
    the path ends at or below zero."""
    values = _array(returns)
    if values.size == 0:
        return None
    growth = float(np.prod(1.0 + values))
    if growth <= 0:
        return None
    try:
        return _finite(growth ** (periods_per_year / values.size) - 1.0)
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest fall of an equity path from its running peak. Indexes point into the
    path given (index 0 is E_0, the starting equity); ``recovery`` is the first index
    after the trough back at or above the peak, None if it never got back."""

    max_drawdown: float  # MDD = min_t (E_t / max_{s<=t} E_s - 1), <= 0
    peak: int
    trough: int
    recovery: int | None

    @property
    def max_drawdown_pct(self) -> float:
        """-100 * MDD: a positive percentage, 0.0 for a path that never fell."""
        return -100.0 * self.max_drawdown if self.max_drawdown else 0.0


def max_drawdown(equity: Sequence[float] | FloatArray) -> Drawdown | None:
    """The drawdown of E_0..E_N, E_0 included (a first period that loses is a drawdown
    from E_0). None for an empty path or one whose running peak is not positive."""
    values = _array(equity)
    if values.size == 0:
        return None
    peaks = np.maximum.accumulate(values)
    if peaks[0] <= 0:
        return None
    # (peak - value) / peak, not value / peak - 1: the same rounding as a running loop.
    falls = (peaks - values) / peaks
    trough = int(np.argmax(falls))
    worst = float(falls[trough])
    if worst <= 0:
        return Drawdown(max_drawdown=0.0, peak=0, trough=0, recovery=None)
    peak = int(np.argmax(values[: trough + 1] == peaks[trough]))
    later = np.nonzero(values[trough + 1 :] >= peaks[trough])[0]
    recovery = int(trough + 1 + later[0]) if later.size else None
    return Drawdown(max_drawdown=-worst, peak=peak, trough=trough, recovery=recovery)


def calmar_ratio(
    returns: Sequence[float] | FloatArray, periods_per_year: float = DEFAULT_PERIODS_PER_YEAR
) -> float | None:
    """CAGR / |MDD| of the path 1, (1 + r_1), ...; None without a drawdown."""
    values = _array(returns)
    growth = cagr(values, periods_per_year)
    path = np.concatenate(([1.0], np.cumprod(1.0 + values)))
    drawdown = max_drawdown(path)
    if growth is None or drawdown is None or drawdown.max_drawdown >= 0:
        return None
    return _finite(growth / -drawdown.max_drawdown)


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Statistics of closed trades' net PnL (after fees and funding)."""

    trades: int
    wins: int
    losses: int
    total_pnl: Decimal
    gross_profit: Decimal
    gross_loss: Decimal  # a positive amount
    win_rate: float | None  # wins / trades; a break-even trade is not a win
    profit_factor: float | None  # gross profit / gross loss; None without a loss
    best: Decimal | None
    worst: Decimal | None
    average: Decimal | None


def trade_stats(pnls: Sequence[Decimal]) -> TradeStats:
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit = sum(wins, Decimal(0))
    gross_loss = -sum(losses, Decimal(0))
    total = sum(pnls, Decimal(0))
    return TradeStats(
        trades=len(pnls),
        wins=len(wins),
        losses=len(losses),
        total_pnl=total,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        win_rate=len(wins) / len(pnls) if pnls else None,
        profit_factor=float(gross_profit / gross_loss) if gross_loss else None,
        best=max(pnls) if pnls else None,
        worst=min(pnls) if pnls else None,
        average=total / len(pnls) if pnls else None,
    )


def mean(values: Sequence[float] | FloatArray) -> float | None:
    """The arithmetic mean; None without values."""
    array = _array(values)
    return _finite(_mean(array)) if array.size else None


def percentile(values: Sequence[float] | FloatArray, q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks
    (numpy's default, Excel's PERCENTILE.INC); None without values."""
    array = _array(values)
    if array.size == 0:
        return None
    return _finite(float(np.percentile(array, q)))


def pearson(x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray) -> float | None:
    """The Pearson correlation of two equally long series; None with fewer than 2 pairs
    or a constant series."""
    a, b = _array(x), _array(y)
    if a.shape != b.shape:
        raise ValueError("pearson needs two series of one length")
    if a.size < 2:
        return None
    da, db = a - _mean(a), b - _mean(b)
    denominator = math.sqrt(math.fsum((da * da).tolist()) * math.fsum((db * db).tolist()))
    if denominator <= 0:
        return None
    return _finite(max(-1.0, min(1.0, math.fsum((da * db).tolist()) / denominator)))
