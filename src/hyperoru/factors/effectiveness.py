"""How well a factor predicted returns: IC, rank IC, ICIR, win rate, history, windows,
decay and half-life (docs/FACTORS.md, "Effectiveness"). Pure numpy over (symbols, bars).

Two kinds, always named in the answer:

- ``time_series`` (per symbol): the bars are cut into consecutive periods of ``period``
  bars (a day of hourly bars), counted back from the newest bar; in each period and for
  each symbol, IC is the correlation between the factor at bar t and the forward return
  from t to t+h. With a handful of crypto symbols this is the steadier measure.
- ``cross_sectional``: at each bar, the correlation across symbols (at least 3 with
  values); the periods are the bars.

IC is Pearson's correlation, rank IC Spearman's (average ranks for ties). The aggregates
over periods: ``ic`` = mean IC, ``icir`` = mean / std (ddof 1), ``t_stat`` = icir·√n,
``win_rate`` = share of periods with IC > 0. Undefined numbers are None, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from hyperoru.factors.bars import Matrix

MIN_PAIRS = 3
DECAY_HORIZONS = 12


def forward_returns(close: Matrix, horizon: int) -> Matrix:
    """R[t] = close[t + h] / close[t] - 1; NaN for the last h bars (nothing to compare)."""
    out = np.full(close.shape, np.nan)
    if horizon < close.shape[-1]:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[..., :-horizon] = close[..., horizon:] / close[..., :-horizon] - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def _paired(x: Matrix, y: Matrix) -> tuple[Matrix, Matrix, np.ndarray]:
    valid = np.isfinite(x) & np.isfinite(y)
    return np.where(valid, x, np.nan), np.where(valid, y, np.nan), valid


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.einsum("...i,...i->...", a, b)
    return result


def pearson(x: Matrix, y: Matrix) -> Matrix:
    """Correlation along the last axis over the pairs where both have a value; NaN with
    fewer than 3 pairs or no spread."""
    valid = np.isfinite(x) & np.isfinite(y)
    count = valid.sum(axis=-1)
    # Missing pairs become zeros that add nothing to any sum (einsum: no temporaries).
    x0, y0 = np.where(valid, x, 0.0), np.where(valid, y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = x0.sum(axis=-1) / count
        my = y0.sum(axis=-1) / count
        dx = np.where(valid, x0 - mx[..., None], 0.0)
        dy = np.where(valid, y0 - my[..., None], 0.0)
        num, sxx, syy = _row_dot(dx, dy), _row_dot(dx, dx), _row_dot(dy, dy)
        den = np.sqrt(sxx * syy)
        # A series without spread has no correlation, also when rounding leaves its
        # deviations at 1e-17 instead of 0: below (1e-12 of its largest value)² a pair.
        flat_x = count * (1e-12 * np.abs(x0).max(axis=-1, initial=0.0)) ** 2
        flat_y = count * (1e-12 * np.abs(y0).max(axis=-1, initial=0.0)) ** 2
        spread = (sxx > flat_x) & (syy > flat_y)
        out = np.where((count >= MIN_PAIRS) & spread & (den > 0), num / den, np.nan)
    return np.asarray(out, dtype=np.float64)


def spearman(x: Matrix, y: Matrix) -> Matrix:
    """Pearson's correlation of the average ranks, over the pairs where both have a value."""
    x, y, valid = _paired(x, y)
    if x.size == 0:
        return np.full(x.shape[:-1], np.nan)
    # Imported here: scipy.stats costs every process that imports the app a noticeable
    # start (effectiveness runs in jobs, off the event loop).
    from scipy.stats import rankdata

    rx = rankdata(x, axis=-1, nan_policy="omit")
    ry = rankdata(y, axis=-1, nan_policy="omit")
    return pearson(np.where(valid, rx, np.nan), np.where(valid, ry, np.nan))


@dataclass(frozen=True, slots=True)
class Summary:
    ic: float | None
    rank_ic: float | None
    icir: float | None
    rank_icir: float | None
    t_stat: float | None
    win_rate: float | None
    periods: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "ic": self.ic,
            "rank_ic": self.rank_ic,
            "icir": self.icir,
            "rank_icir": self.rank_icir,
            "t_stat": self.t_stat,
            "win_rate": self.win_rate,
            "periods": self.periods,
        }


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _mean_and_ir(values: np.ndarray) -> tuple[float, float]:
    """Mean and mean / std (ddof 1); the ratio is NaN without spread (a std within
    rounding of zero counts as none: identical ICs give 1e-17, not 0)."""
    if not values.size:
        return math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan
    std = float(values.std(ddof=1))
    if std <= 1e-12 * max(abs(mean), 1e-300):
        return mean, math.nan
    return mean, mean / std


def summarise(ics: np.ndarray, rank_ics: np.ndarray) -> Summary:
    ics = ics[np.isfinite(ics)]
    rank_ics = rank_ics[np.isfinite(rank_ics)]
    n = int(ics.size)
    mean, icir = _mean_and_ir(ics)
    rank_mean, rank_icir = _mean_and_ir(rank_ics)
    return Summary(
        ic=_number(mean),
        rank_ic=_number(rank_mean),
        icir=_number(icir),
        rank_icir=_number(rank_icir),
        t_stat=_number(icir * math.sqrt(n)) if n > 1 else None,
        win_rate=float((ics > 0).mean()) if n else None,
        periods=n,
    )


def _periods(values: Matrix, period: int) -> Matrix:
    """(symbols, bars) → (symbols, periods, period), the newest period ending at the last
    bar; the oldest bars that do not fill a period are left out."""
    count = values.shape[-1] // period
    start = values.shape[-1] - count * period
    return values[:, start:].reshape(values.shape[0], count, period)


Times = Sequence[datetime] | np.ndarray


def bar_seconds(times: Times) -> np.ndarray:
    """Each bar's open time in Unix seconds (convert once, reuse for every factor)."""
    if isinstance(times, np.ndarray):
        return times
    return np.fromiter((t.timestamp() for t in times), dtype=np.int64, count=len(times))


def period_ends(seconds: np.ndarray, period: int) -> np.ndarray:
    count = seconds.size // period
    start = seconds.size - count * period
    return seconds[start + period - 1 :: period][:count]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind's per-period ICs: shape (symbols, periods) for time series, (periods,) for
    cross-sectional; ``ends`` dates each period by its last bar (Unix seconds)."""

    name: str
    ic: np.ndarray
    rank_ic: np.ndarray
    ends: np.ndarray


def time_series_ics(factor: Matrix, returns: Matrix, times: Times, period: int) -> Kind:
    f, r = _periods(factor, period), _periods(returns, period)
    ends = period_ends(bar_seconds(times), period)
    return Kind("time_series", pearson(f, r), spearman(f, r), ends)


def cross_sectional_ics(factor: Matrix, returns: Matrix, times: Times) -> Kind:
    f, r = factor.T, returns.T
    return Kind("cross_sectional", pearson(f, r), spearman(f, r), bar_seconds(times))


_DAY = 86_400


def history(kind: Kind) -> list[dict[str, object]]:
    """Mean IC per UTC day (over symbols, and over the bars of the day when
    cross-sectional); days without any IC are left out."""
    ic = kind.ic if kind.ic.ndim == 1 else _nanmean_rows(kind.ic)
    rank = kind.rank_ic if kind.rank_ic.ndim == 1 else _nanmean_rows(kind.rank_ic)
    keep = np.isfinite(ic)
    if not keep.any():
        return []
    days, where = np.unique(kind.ends[keep] // _DAY, return_inverse=True)
    count = np.bincount(where)
    ic_mean = np.bincount(where, ic[keep]) / count
    ranked = np.isfinite(rank[keep])
    rank_count = np.bincount(where[ranked], minlength=days.size)
    rank_sum = np.bincount(where[ranked], rank[keep][ranked], minlength=days.size)
    dates = np.asarray(days * _DAY, dtype="datetime64[s]").astype("datetime64[D]").astype(str)
    return [
        {
            "date": str(dates[i]),
            "ic": float(ic_mean[i]),
            "rank_ic": float(rank_sum[i] / rank_count[i]) if rank_count[i] else None,
            "periods": int(count[i]),
        }
        for i in range(days.size)
    ]


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    valid = np.isfinite(values)
    count = valid.sum(axis=0)
    total = np.where(valid, values, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / count, np.nan)


def overall(kind: Kind) -> Summary:
    return summarise(kind.ic.ravel(), kind.rank_ic.ravel())


def per_symbol(kind: Kind, symbols: Sequence[str]) -> dict[str, Summary]:
    return {s: summarise(kind.ic[row], kind.rank_ic[row]) for row, s in enumerate(symbols)}


def by_window(kind: Kind, windows_days: Sequence[int]) -> list[dict[str, object]]:
    """The summary over the periods ending in each trailing window of days."""
    if not kind.ends.size:
        return [
            {"window": f"{d}d", "days": d, **summarise(np.array([]), np.array([])).as_dict()}
            for d in windows_days
        ]
    ends = kind.ends[-1] - kind.ends
    rows: list[dict[str, object]] = []
    for days in windows_days:
        inside = ends < days * _DAY
        ic = kind.ic[..., inside]
        rank = kind.rank_ic[..., inside]
        rows.append(
            {"window": f"{days}d", "days": days, **summarise(ic.ravel(), rank.ravel()).as_dict()}
        )
    return rows


@dataclass(frozen=True, slots=True)
class Decay:
    horizons: list[int]
    ic: list[float | None]
    half_life: float | None  # bars, from the log-linear fit
    half_life_crossing: float | None  # bars, first h where |IC| <= |IC(1)| / 2

    def as_dict(self) -> dict[str, object]:
        return {
            "horizons": self.horizons,
            "ic": self.ic,
            "half_life_bars": self.half_life,
            "half_life_crossing_bars": self.half_life_crossing,
            "method": (
                "least squares of ln|IC(h)| = a - λh over the h keeping IC(1)'s sign; ln 2 / λ"
            ),
        }


def decay_of(mean_ic: Sequence[float]) -> Decay:
    """Half-life of a factor from its mean IC at horizons 1..H (``mean_ic[h - 1]``)."""
    horizons = list(range(1, len(mean_ic) + 1))
    values = np.array(mean_ic, dtype=np.float64)
    shown = [None if not math.isfinite(v) else float(v) for v in values]
    if not values.size or not math.isfinite(values[0]) or values[0] == 0:
        return Decay(horizons, shown, None, None)
    first = values[0]
    same = np.isfinite(values) & (np.sign(values) == np.sign(first))
    h = np.array(horizons, dtype=np.float64)[same]
    half_life = None
    if h.size >= 2:
        slope = np.polyfit(h, np.log(np.abs(values[same])), 1)[0]
        lam = -float(slope)
        half_life = math.log(2.0) / lam if lam > 0 else None
    crossing = None
    target = abs(first) / 2.0
    for i in range(1, values.size):
        a, b = abs(values[i - 1]), abs(values[i])
        if not (math.isfinite(a) and math.isfinite(b)):
            break
        if b <= target:
            crossing = horizons[i - 1] + ((a - target) / (a - b) if a != b else 0.0)
            break
    return Decay(horizons, shown, half_life, crossing)


def mean_ic_by_horizon(
    factor: Matrix, close: Matrix, times: Times, period: int, kind: str, horizons: int
) -> list[float]:
    """Mean Pearson IC of ``kind`` for each horizon 1..H."""
    means = []
    for h in range(1, horizons + 1):
        returns = forward_returns(close, h)
        if kind == "time_series":
            ics = time_series_ics_pearson(factor, returns, period)
        else:
            ics = pearson(factor.T, returns.T)
        finite = ics[np.isfinite(ics)]
        means.append(float(finite.mean()) if finite.size else math.nan)
    return means


def time_series_ics_pearson(factor: Matrix, returns: Matrix, period: int) -> np.ndarray:
    return pearson(_periods(factor, period), _periods(returns, period))


@dataclass(frozen=True, slots=True)
class Settings:
    horizon: int = 1  # bars ahead of the forward return
    period: int = 24  # bars per time-series period (a day of hourly bars)
    windows_days: tuple[int, ...] = (7, 30, 90, 365)
    decay_horizons: int = DECAY_HORIZONS


KINDS = ("time_series", "cross_sectional")


def report(
    factor: Matrix,
    close: Matrix,
    times: Times,
    symbols: Sequence[str],
    settings: Settings,
) -> dict[str, object]:
    """Everything the effectiveness routes answer for one factor, both kinds (JSON-ready).
    ``times`` may be ``bar_seconds(times)``, converted once for many factors."""
    times = bar_seconds(times)
    returns = forward_returns(close, settings.horizon)
    answer: dict[str, object] = {}
    for kind in (
        time_series_ics(factor, returns, times, settings.period),
        cross_sectional_ics(factor, returns, times),
    ):
        decay = decay_of(
            mean_ic_by_horizon(
                factor, close, times, settings.period, kind.name, settings.decay_horizons
            )
        )
        part: dict[str, object] = {
            "summary": overall(kind).as_dict(),
            "history": history(kind),
            "by_window": by_window(kind, settings.windows_days),
            "decay": decay.as_dict(),
        }
        if kind.name == "time_series":
            part["per_symbol"] = {s: v.as_dict() for s, v in per_symbol(kind, symbols).items()}
        answer[kind.name] = part
    return answer
