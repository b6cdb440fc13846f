"""The whitelisted functions of the factor language, vectorised over (symbols, bars).

Every function takes matrices of shape (symbols, bars), oldest bar first, and returns a
new float64 matrix of the same shape, aligned with its input: column ``t`` uses bars up
to ``t`` only (no look-ahead). Positions without enough history hold NaN, which the API
reports as ``null``; so do undefined values (a division by zero, the log of a negative
number, a window with no spread). Infinities never leave this module.

Window functions propagate NaN: a window that contains a missing value gives NaN.
Recursive averages (ema, rsi, macd, atr, adx) restart after the last missing value, as
``market.indicators`` treats a leading run of NaN as missing history; those reuse the
market's indicators, so a factor's ``rsi(14)`` is the RSI every other part of the
platform shows (TA-Lib conventions, docs/INDICATORS.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hyperoru.factors.bars import Bars, Matrix
from hyperoru.market import indicators

MAX_WINDOW = 2000
MAX_NUMBER = 1e6

Compute = Callable[[Bars, Sequence[Matrix], tuple[float, ...]], Matrix]


def _lfilter() -> Any:
    """scipy's IIR filter, imported on first use: scipy.signal takes most of a second to
    import, which every command that imports the app would pay (the server pays it at
    start-up in hyperoru.warmup, as market.indicators does)."""
    from scipy.signal import lfilter

    return lfilter


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: float | None = None
    window: bool = True  # a whole number of bars in [1, MAX_WINDOW]
    minimum: float = 1.0

    def problem(self, value: float) -> str | None:
        if self.window:
            if value != int(value):
                return "must be a whole number of bars"
            if not self.minimum <= value <= MAX_WINDOW:
                return f"must be between {self.minimum:g} and {MAX_WINDOW}"
            return None
        if not self.minimum <= value <= MAX_NUMBER:
            return f"must be between {self.minimum:g} and {MAX_NUMBER:g}"
        return None


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    # The series arguments, each with its default (None: required).
    inputs: tuple[str | None, ...]
    params: tuple[Param, ...]
    compute: Compute
    summary: str
    # Bars before the first value, from the parameters.
    warmup: Callable[[tuple[float, ...]], int]

    @property
    def usage(self) -> str:
        parts = [f"x{i + 1}={d}" if d else f"x{i + 1}" for i, d in enumerate(self.inputs)]
        parts += [p.name if p.default is None else f"{p.name}={p.default:g}" for p in self.params]
        return f"{self.name}({', '.join(parts)})"


# --- helpers --------------------------------------------------------------------------


def clean(values: Matrix) -> Matrix:
    """NaN wherever a value is not finite (infinities never reach an answer)."""
    values[~np.isfinite(values)] = np.nan
    return values


def _divide(a: Matrix, b: Matrix) -> Matrix:
    with np.errstate(divide="ignore", invalid="ignore"):
        return clean(np.asarray(a / b, dtype=np.float64))


def _lag(x: Matrix, n: int) -> Matrix:
    out = np.full(x.shape, np.nan)
    if n < x.shape[1]:
        out[:, n:] = x[:, :-n] if n else x
    return out


def _rolling(x: Matrix, n: int, reduce: Callable[[Matrix], Matrix]) -> Matrix:
    """``reduce`` over each trailing window of ``n`` bars (last axis of its argument)."""
    out = np.full(x.shape, np.nan)
    if n <= x.shape[1]:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out[:, n - 1 :] = reduce(sliding_window_view(x, n, axis=1))
    return clean(out)


def _rolling2(x: Matrix, y: Matrix, n: int, reduce: Callable[[Matrix, Matrix], Matrix]) -> Matrix:
    out = np.full(x.shape, np.nan)
    if n <= x.shape[1]:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out[:, n - 1 :] = reduce(
                sliding_window_view(x, n, axis=1), sliding_window_view(y, n, axis=1)
            )
    return clean(out)


def _per_row(function: Callable[..., np.ndarray], *columns: Matrix) -> Matrix:
    """A 1-D recursive indicator per symbol, restarted after the last missing value."""
    out: Matrix = np.full(columns[0].shape, np.nan)
    finite = np.all(np.isfinite(np.stack(columns)), axis=0)
    for row in range(out.shape[0]):
        bad = np.flatnonzero(~finite[row])
        start = int(bad[-1]) + 1 if bad.size else 0
        if start < out.shape[1]:
            out[row, start:] = function(*(c[row, start:] for c in columns))
    return clean(out)


def _window(params: tuple[float, ...], index: int = 0) -> int:
    return int(params[index])


def _std(windows: Matrix) -> Matrix:
    return np.asarray(np.std(windows, axis=-1, ddof=1), dtype=np.float64)


def _centred(windows: Matrix) -> Matrix:
    return windows - windows.mean(axis=-1, keepdims=True)


def _skew(windows: Matrix) -> Matrix:
    # Adjusted Fisher-Pearson G1, as pandas' rolling skew.
    n = windows.shape[-1]
    # Products, not ``**``: numpy's power with exponent 3 or 1.5 is several times slower.
    d = _centred(windows)
    d2 = d * d
    m2 = d2.mean(axis=-1)
    m3 = (d2 * d).mean(axis=-1)
    g1 = np.where(m2 > 0, m3 / (m2 * np.sqrt(m2)), np.nan)
    result: Matrix = g1 * math.sqrt(n * (n - 1)) / (n - 2) if n > 2 else np.full(g1.shape, np.nan)
    return result


def _kurt(windows: Matrix) -> Matrix:
    # Sample excess kurtosis G2, as pandas' rolling kurt.
    n = windows.shape[-1]
    if n < 4:
        return np.full(windows.shape[:-1], np.nan)
    d2 = _centred(windows)
    d2 *= d2
    m2 = d2.mean(axis=-1)
    m4 = (d2 * d2).mean(axis=-1)
    g2 = np.where(m2 > 0, m4 / (m2 * m2) - 3.0, np.nan)
    result: Matrix = ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))
    return result


def _rank_last(windows: Matrix) -> Matrix:
    # The average rank of the newest value within its window, divided by the window
    # (pandas' rolling rank with pct=True): 1 is the highest of the window.
    last = windows[..., -1:]
    below = (windows < last).sum(axis=-1)
    equal = (windows == last).sum(axis=-1)
    rank = below + (equal + 1) / 2.0
    result: Matrix = np.where(np.isnan(last[..., 0]), np.nan, rank / windows.shape[-1])
    return result


def _corr(a: Matrix, b: Matrix) -> Matrix:
    da, db = _centred(a), _centred(b)
    num = (da * db).sum(axis=-1)
    den = np.sqrt((da**2).sum(axis=-1) * (db**2).sum(axis=-1))
    result: Matrix = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return result


def _cov(a: Matrix, b: Matrix) -> Matrix:
    result: Matrix = (_centred(a) * _centred(b)).sum(axis=-1) / (a.shape[-1] - 1)
    return result


def _slope(windows: Matrix) -> Matrix:
    n = windows.shape[-1]
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    result: Matrix = (
        (windows * x).sum(axis=-1) / (x**2).sum() if n > 1 else windows[..., 0] * np.nan
    )
    return result


def _wma(windows: Matrix) -> Matrix:
    n = windows.shape[-1]
    weights = np.arange(1, n + 1, dtype=np.float64)
    result: Matrix = windows @ weights / weights.sum()
    return result


# --- the functions --------------------------------------------------------------------


def _elementwise(op: Callable[[Matrix], Matrix]) -> Compute:
    def compute(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
        with np.errstate(all="ignore"):
            return clean(np.asarray(op(inputs[0]), dtype=np.float64))

    return compute


def _log(x: Matrix) -> Matrix:
    return np.log(np.where(x > 0, x, np.nan))


def _sqrt(x: Matrix) -> Matrix:
    return np.sqrt(np.where(x >= 0, x, np.nan))


def _pair(op: Callable[[Matrix, Matrix], Matrix]) -> Compute:
    def compute(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
        return clean(np.asarray(op(inputs[0], inputs[1]), dtype=np.float64))

    return compute


def _windowed(reduce: Callable[[Matrix], Matrix]) -> Compute:
    def compute(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
        return _rolling(inputs[0], _window(params), reduce)

    return compute


def _windowed2(reduce: Callable[[Matrix, Matrix], Matrix]) -> Compute:
    def compute(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
        return _rolling2(inputs[0], inputs[1], _window(params), reduce)

    return compute


def _lag_f(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    return _lag(inputs[0], _window(params))


def _delta(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    return clean(inputs[0] - _lag(inputs[0], _window(params)))


def _roc(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    return _divide(inputs[0], _lag(inputs[0], _window(params))) - 1.0


def _zscore(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    x, n = inputs[0], _window(params)
    mean = _rolling(x, n, lambda w: w.mean(axis=-1))
    return _divide(x - mean, _rolling(x, n, _std))


def _normalize(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    x, n = inputs[0], _window(params)
    low = _rolling(x, n, lambda w: w.min(axis=-1))
    high = _rolling(x, n, lambda w: w.max(axis=-1))
    return _divide(2.0 * (x - low), high - low) - 1.0


def _clip(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    low, high = -params[0], params[0]
    return np.clip(inputs[0], low, high)


def _ema(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    return _per_row(lambda x: indicators.ema(x, n), inputs[0])


def _rsi(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    return _per_row(lambda x: indicators.rsi(x, n), inputs[0])


def _macd(line: str) -> Compute:
    def compute(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
        fast, slow, signal = (int(p) for p in params)
        if fast >= slow:
            return np.full(inputs[0].shape, np.nan)
        return _per_row(lambda x: getattr(indicators.macd(x, fast, slow, signal), line), inputs[0])

    return compute


def _atr(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    return _per_row(lambda hi, lo, c: indicators.atr(hi, lo, c, n), bars.high, bars.low, bars.close)


def _wilder_sum(values: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib's running Wilder sum: the plain sum of the first ``n - 1`` values, then
    ``s = s - s / n + value`` (values from index 0; output from index ``n - 2``)."""
    out = np.full(values.size, np.nan)
    if values.size >= n - 1 and n > 1:
        seed = values[: n - 1].sum()
        tail = values[n - 1 :]
        if tail.size:
            smoothed, _ = _lfilter()(
                [1.0], [1.0, -(1.0 - 1.0 / n)], tail, zi=[seed * (1.0 - 1.0 / n)]
            )
            out[n - 1 :] = smoothed
        out[n - 2] = seed
    return out


def _adx_row(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int) -> np.ndarray:
    out = np.full(high.size, np.nan)
    if high.size < 2 * n or n < 2:
        return out
    up = np.diff(high)
    down = -np.diff(low)
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    prev_close = close[:-1]
    tr = np.maximum.reduce(
        [high[1:] - low[1:], np.abs(high[1:] - prev_close), np.abs(low[1:] - prev_close)]
    )
    s_plus, s_minus, s_tr = (_wilder_sum(v, n) for v in (plus_dm, minus_dm, tr))
    with np.errstate(divide="ignore", invalid="ignore"):
        plus_di = 100.0 * s_plus / s_tr
        minus_di = 100.0 * s_minus / s_tr
        total = plus_di + minus_di
        dx = np.where(total > 0, 100.0 * np.abs(plus_di - minus_di) / total, 0.0)
    # dx[i] describes bar i + 1; the first DX is at bar n (TA-Lib), index n - 1 here.
    dx = dx[n - 1 :]
    if dx.size < n:
        return out
    first = dx[:n].mean()
    rest = dx[n:]
    adx = np.empty(rest.size + 1)
    adx[0] = first
    if rest.size:
        adx[1:], _ = _lfilter()(
            [1.0 / n], [1.0, -(1.0 - 1.0 / n)], rest, zi=[first * (1.0 - 1.0 / n)]
        )
    out[2 * n - 1 :] = adx
    return out


def _adx(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    return _per_row(lambda hi, lo, c: _adx_row(hi, lo, c, n), bars.high, bars.low, bars.close)


def _extremes(bars: Bars, n: int) -> tuple[Matrix, Matrix]:
    return (
        _rolling(bars.high, n, lambda w: w.max(axis=-1)),
        _rolling(bars.low, n, lambda w: w.min(axis=-1)),
    )


def _stoch_k(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n, smooth = _window(params, 0), _window(params, 1)
    highest, lowest = _extremes(bars, n)
    fast = 100.0 * _divide(bars.close - lowest, highest - lowest)
    return _rolling(fast, smooth, lambda w: w.mean(axis=-1))


def _stoch_d(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    slow_k = _stoch_k(bars, inputs, params[:2])
    return _rolling(slow_k, _window(params, 2), lambda w: w.mean(axis=-1))


def _williams_r(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    highest, lowest = _extremes(bars, _window(params))
    return -100.0 * _divide(highest - bars.close, highest - lowest)


def _typical(bars: Bars) -> Matrix:
    result: Matrix = (bars.high + bars.low + bars.close) / 3.0
    return result


def _cci(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)

    def deviation(w: Matrix) -> Matrix:
        result: Matrix = np.abs(_centred(w)).mean(axis=-1)
        return result

    tp = _typical(bars)
    mean = _rolling(tp, n, lambda w: w.mean(axis=-1))
    return _divide(tp - mean, 0.015 * _rolling(tp, n, deviation))


def _mfi(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    tp = _typical(bars)
    flow = tp * bars.volume
    change = tp - _lag(tp, 1)
    positive = np.where(change > 0, flow, np.where(np.isnan(change), np.nan, 0.0))
    negative = np.where(change < 0, flow, np.where(np.isnan(change), np.nan, 0.0))
    pos = _rolling(positive, n, lambda w: w.sum(axis=-1))
    neg = _rolling(negative, n, lambda w: w.sum(axis=-1))
    return 100.0 * _divide(pos, pos + neg)


def _obv(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    def row(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
        signed = np.sign(np.diff(close)) * volume[1:]
        return np.concatenate(([volume[0]], volume[0] + np.cumsum(signed))) if close.size else close

    return _per_row(row, bars.close, bars.volume)


def _bands(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> tuple[Matrix, ...]:
    n, k = _window(params, 0), params[1]
    lines = [np.full(inputs[0].shape, np.nan) for _ in range(3)]
    for index, name in enumerate(("upper", "middle", "lower")):
        lines[index] = _per_row(
            lambda x, name=name: getattr(indicators.bollinger_bands(x, n, k), name), inputs[0]
        )
    return tuple(lines)


def _bbwidth(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    upper, middle, lower = _bands(bars, inputs, params)
    return _divide(upper - lower, middle)


def _bb_pos(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    upper, _middle, lower = _bands(bars, inputs, params)
    return _divide(inputs[0] - lower, upper - lower)


def _vol(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    return _rolling(bars.returns, _window(params), _std)


def _log_ratio(a: Matrix, b: Matrix) -> Matrix:
    with np.errstate(divide="ignore", invalid="ignore"):
        return clean(np.log(np.where((a > 0) & (b > 0), a / b, np.nan)))


def _gk_vol(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    hl = _log_ratio(bars.high, bars.low)
    co = _log_ratio(bars.close, bars.open)
    term = 0.5 * hl**2 - (2.0 * math.log(2.0) - 1.0) * co**2
    return _elementwise(_sqrt)(
        bars, [_rolling(term, _window(params), lambda w: w.mean(axis=-1))], ()
    )


def _parkinson(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    hl = _log_ratio(bars.high, bars.low)
    mean = _rolling(hl**2, _window(params), lambda w: w.mean(axis=-1))
    return np.sqrt(mean / (4.0 * math.log(2.0)))


def _vwap(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    value = _rolling(_typical(bars) * bars.volume, n, lambda w: w.sum(axis=-1))
    return _divide(value, _rolling(bars.volume, n, lambda w: w.sum(axis=-1)))


def _cmf(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    n = _window(params)
    multiplier = _divide((bars.close - bars.low) - (bars.high - bars.close), bars.high - bars.low)
    multiplier = np.where(np.isnan(multiplier) & np.isfinite(bars.close), 0.0, multiplier)
    flow = _rolling(multiplier * bars.volume, n, lambda w: w.sum(axis=-1))
    return _divide(flow, _rolling(bars.volume, n, lambda w: w.sum(axis=-1)))


_HURST_LAGS = np.array([1, 2, 4, 8])


def _hurst(bars: Bars, inputs: Sequence[Matrix], params: tuple[float, ...]) -> Matrix:
    # The variance-time estimate: the slope of ln std(x[t] - x[t-k]) against ln k for
    # k in 1, 2, 4, 8, each std over the differences inside the last n bars.
    x, n = inputs[0], _window(params)
    logs = []
    for k in _HURST_LAGS:
        diff = x - _lag(x, int(k))
        logs.append(_elementwise(_log)(bars, [_rolling(diff, max(n - int(k), 2), _std)], ()))
    ln_k = np.log(_HURST_LAGS.astype(np.float64))
    centred = ln_k - ln_k.mean()
    stacked = np.stack(logs)
    slope = np.tensordot(centred, stacked - stacked.mean(axis=0), axes=(0, 0)) / (centred**2).sum()
    out = clean(np.asarray(slope, dtype=np.float64))
    out[:, : n - 1] = np.nan
    return out


def _n(i: int = 0) -> Callable[[tuple[float, ...]], int]:
    return lambda params: int(params[i])


def _zero(params: tuple[float, ...]) -> int:
    return 0


N = Param("n")
N2 = Param("n", minimum=2.0)  # a sample statistic needs two values
X = ("close",)
XR = (None,)


def _spec(
    name: str,
    inputs: tuple[str | None, ...],
    params: tuple[Param, ...],
    compute: Compute,
    summary: str,
    warmup: Callable[[tuple[float, ...]], int] | None = None,
) -> FunctionSpec:
    return FunctionSpec(
        name, inputs, params, compute, summary, warmup or (_n() if params else _zero)
    )


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        # element by element
        _spec("abs", XR, (), _elementwise(np.abs), "absolute value"),
        _spec("sign", XR, (), _elementwise(np.sign), "-1, 0 or 1"),
        _spec("log", XR, (), _elementwise(_log), "natural log; null where x <= 0"),
        _spec("sqrt", XR, (), _elementwise(_sqrt), "square root; null where x < 0"),
        _spec("max", (None, None), (), _pair(np.fmax), "larger of two series (bar by bar)"),
        _spec("min", (None, None), (), _pair(np.fmin), "smaller of two series (bar by bar)"),
        _spec(
            "clip",
            XR,
            (Param("limit", window=False, minimum=0.0),),
            _clip,
            "x limited to ±limit",
            _zero,
        ),
        # over a trailing window
        _spec("lag", XR, (Param("n", 1.0),), _lag_f, "x n bars ago"),
        _spec("delta", XR, (Param("n", 1.0),), _delta, "x - lag(x, n)"),
        _spec("roc", X, (N,), _roc, "x / lag(x, n) - 1 (a ratio, not percent)"),
        _spec("sma", X, (N,), _windowed(lambda w: w.mean(axis=-1)), "simple moving average"),
        _spec("wma", X, (N,), _windowed(_wma), "linearly weighted moving average (TA-Lib WMA)"),
        _spec("ema", X, (N,), _ema, "exponential moving average, SMA-seeded (TA-Lib EMA)"),
        _spec("std", XR, (N2,), _windowed(_std), "sample standard deviation (ddof 1)"),
        _spec("var", XR, (N2,), _windowed(lambda w: np.var(w, axis=-1, ddof=1)), "sample variance"),
        _spec("sum", XR, (N,), _windowed(lambda w: w.sum(axis=-1)), "sum of the window"),
        _spec(
            "highest", X, (N,), _windowed(lambda w: w.max(axis=-1)), "highest value of the window"
        ),
        _spec("lowest", X, (N,), _windowed(lambda w: w.min(axis=-1)), "lowest value of the window"),
        _spec("zscore", XR, (N2,), _zscore, "(x - sma) / std over the window"),
        _spec("rank", XR, (N,), _windowed(_rank_last), "percentile rank of x in its window (0..1]"),
        _spec("skew", XR, (N2,), _windowed(_skew), "sample skewness (pandas' rolling skew)"),
        _spec("kurt", XR, (N2,), _windowed(_kurt), "sample excess kurtosis (pandas' rolling kurt)"),
        _spec(
            "slope",
            X,
            (N,),
            _windowed(_slope),
            "least-squares slope per bar (TA-Lib LINEARREG_SLOPE)",
        ),
        _spec(
            "corr", (None, None), (N2,), _windowed2(_corr), "Pearson correlation over the window"
        ),
        _spec("cov", (None, None), (N2,), _windowed2(_cov), "sample covariance over the window"),
        _spec(
            "normalize",
            XR,
            (Param("n", 100.0),),
            _normalize,
            "x scaled to -1..1 by its window's range",
        ),
        _spec(
            "hurst",
            X,
            (Param("n", 100.0, minimum=16.0),),
            _hurst,
            "Hurst exponent (variance-time, lags 1,2,4,8)",
        ),
        # indicators (TA-Lib conventions)
        _spec("rsi", X, (Param("n", 14.0),), _rsi, "Wilder RSI, 0..100"),
        _spec(
            "macd",
            X,
            (Param("fast", 12.0), Param("slow", 26.0), Param("signal", 9.0)),
            _macd("macd"),
            "MACD line",
            lambda p: int(p[1] + p[2]),
        ),
        _spec(
            "macd_signal",
            X,
            (Param("fast", 12.0), Param("slow", 26.0), Param("signal", 9.0)),
            _macd("signal"),
            "MACD signal line",
            lambda p: int(p[1] + p[2]),
        ),
        _spec(
            "macd_hist",
            X,
            (Param("fast", 12.0), Param("slow", 26.0), Param("signal", 9.0)),
            _macd("histogram"),
            "MACD histogram",
            lambda p: int(p[1] + p[2]),
        ),
        _spec("atr", (), (Param("n", 14.0),), _atr, "Wilder average true range"),
        _spec(
            "adx",
            (),
            (Param("n", 14.0, minimum=2.0),),
            _adx,
            "Wilder ADX, 0..100 (TA-Lib ADX)",
            lambda p: int(2 * p[0]),
        ),
        _spec(
            "stoch_k",
            (),
            (Param("n", 14.0), Param("smooth", 3.0)),
            _stoch_k,
            "slow stochastic %K (TA-Lib STOCH slowk)",
            lambda p: int(p[0] + p[1]),
        ),
        _spec(
            "stoch_d",
            (),
            (Param("n", 14.0), Param("smooth", 3.0), Param("d", 3.0)),
            _stoch_d,
            "slow stochastic %D (TA-Lib STOCH slowd)",
            lambda p: int(p[0] + p[1] + p[2]),
        ),
        _spec("williams_r", (), (Param("n", 14.0),), _williams_r, "Williams %R, -100..0"),
        _spec("cci", (), (Param("n", 20.0),), _cci, "commodity channel index"),
        _spec(
            "mfi",
            (),
            (Param("n", 14.0),),
            _mfi,
            "money flow index, 0..100",
            lambda p: int(p[0]) + 1,
        ),
        _spec("obv", (), (), _obv, "on-balance volume"),
        _spec(
            "bbwidth",
            X,
            (Param("n", 20.0), Param("k", 2.0, window=False, minimum=0.0)),
            _bbwidth,
            "(upper - lower) / middle Bollinger band",
        ),
        _spec(
            "bb_pos",
            X,
            (Param("n", 20.0), Param("k", 2.0, window=False, minimum=0.0)),
            _bb_pos,
            "position in the Bollinger bands (%B)",
        ),
        _spec(
            "vol",
            (),
            (Param("n", 20.0, minimum=2.0),),
            _vol,
            "std(returns, n)",
            lambda p: int(p[0]) + 1,
        ),
        _spec("gk_vol", (), (Param("n", 20.0),), _gk_vol, "Garman-Klass volatility per bar"),
        _spec(
            "parkinson",
            (),
            (Param("n", 20.0),),
            _parkinson,
            "Parkinson high-low volatility per bar",
        ),
        _spec(
            "vwap", (), (Param("n", 20.0),), _vwap, "volume-weighted typical price over the window"
        ),
        _spec("cmf", (), (Param("n", 20.0),), _cmf, "Chaikin money flow"),
    )
}
