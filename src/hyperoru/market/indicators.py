"""Technical indicators on numpy series, the one implementation shared by prompts, signals,
programs and backtests (contract §7).

Every function takes 1-D series, oldest value first, and returns new float64 arrays of the
same length, aligned with the input: position ``i`` describes the bar at ``i``. Positions
without enough history (the warm-up) hold NaN; after the warm-up every value is finite
(the one exception, a price change from a zero close, is below).

Conventions are those of TA-Lib 0.8 in its default compatibility mode, the reference the
tests compare against to 1e-9 relative (``docs/INDICATORS.md`` has the full table):

- SMA is the plain mean of the last ``period`` values; first value at ``period - 1``.
- EMA uses ``alpha = 2 / (period + 1)`` and is seeded with the SMA of the first ``period``
  values (not with the first value); first value at ``period - 1``.
- RSI and ATR use Wilder smoothing (``alpha = 1 / period``) seeded with the plain mean of the
  first ``period`` changes or true ranges; first value at ``period``.
- MACD seeds its fast EMA with the mean of the ``fast`` closes ending at ``slow - 1`` (where
  the slow EMA starts), like TA-Lib, so the fast line is not a standalone ``ema(close, fast)``;
  all three outputs start at ``slow + signal - 2`` (33 for 12/26/9).
- Bollinger bands use the population standard deviation (divide by ``period``).
- Price change is ``(close[i] / close[i - bars] - 1) * 100`` (TA-Lib's ROC).

Two deliberate departures, both where TA-Lib's answer would mislead a trader: the RSI of a
window with no movement at all is 50 (TA-Lib says 0, "oversold"), and a price change from a
zero price is NaN (TA-Lib says 0).

Pure functions over numpy; the recursive averages run through ``scipy.signal.lfilter``.

Input: a leading run of NaN is treated as missing history (the warm-up starts at the first
finite value, as in TA-Lib), so indicators can be chained; any other NaN or infinity is
refused with ``ValueError``. Multi-input indicators start where all their inputs are valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

PERCENT = 100.0
NEUTRAL_RSI = 50.0


@dataclass(frozen=True, slots=True)
class MacdLines:
    macd: FloatArray
    signal: FloatArray
    histogram: FloatArray


@dataclass(frozen=True, slots=True)
class BollingerBands:
    upper: FloatArray
    middle: FloatArray
    lower: FloatArray


# --- public indicators ------------------------------------------------------------------


def sma(values: ArrayLike, period: int) -> FloatArray:
    """Simple moving average of the last ``period`` values."""
    _check_period(period, "period")
    start, (series,) = _valid_tail(values=values)
    return _placed(start, _rolling_mean_var(series, period, with_variance=False)[0])


def ema(values: ArrayLike, period: int) -> FloatArray:
    """Exponential moving average, ``alpha = 2 / (period + 1)``, seeded with an SMA."""
    _check_period(period, "period")
    start, (series,) = _valid_tail(values=values)
    return _placed(start, _seeded_average(series, period, _ema_alpha(period)))


def rsi(close: ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's relative strength index, 0..100; 50 when the window did not move at all."""
    _check_period(period, "period")
    start, (series,) = _valid_tail(close=close)
    out = np.full(series.size, np.nan)
    if series.size > period:
        change = np.diff(series)
        alpha = 1.0 / period
        average_gain = _seeded_average(np.maximum(change, 0.0), period, alpha)[period - 1 :]
        average_loss = _seeded_average(np.maximum(-change, 0.0), period, alpha)[period - 1 :]
        total = average_gain + average_loss
        neutral = np.full(total.size, NEUTRAL_RSI / PERCENT)
        out[period:] = PERCENT * np.divide(average_gain, total, out=neutral, where=total > 0)
    return _placed(start, out)


def macd(close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> MacdLines:
    """MACD line (fast EMA - slow EMA), its signal EMA and the histogram (line - signal)."""
    for name, value in (("fast", fast), ("slow", slow), ("signal", signal)):
        _check_period(value, name)
    if fast >= slow:
        raise ValueError("fast must be shorter than slow")
    start, (series,) = _valid_tail(close=close)
    line = np.full(series.size, np.nan)
    signal_line = np.full(series.size, np.nan)
    first_line = slow - 1
    if series.size > first_line:
        slow_ema = _seeded_average(series, slow, _ema_alpha(slow))
        # TA-Lib starts the fast EMA where the slow one starts, seeding it from the
        # `fast` closes ending there rather than from the first `fast` closes.
        fast_ema = _seeded_average(series, fast, _ema_alpha(fast), seed_end=first_line)
        line = fast_ema - slow_ema
        signal_line[first_line:] = _seeded_average(line[first_line:], signal, _ema_alpha(signal))
        line[: first_line + signal - 1] = np.nan
    return MacdLines(
        macd=_placed(start, line),
        signal=_placed(start, signal_line),
        histogram=_placed(start, line - signal_line),
    )


def bollinger_bands(close: ArrayLike, period: int = 20, num_std: float = 2.0) -> BollingerBands:
    """SMA middle band and bands ``num_std`` population standard deviations around it."""
    _check_period(period, "period")
    if not (np.isfinite(num_std) and num_std >= 0):
        raise ValueError("num_std must be a finite number >= 0")
    start, (series,) = _valid_tail(close=close)
    middle, variance = _rolling_mean_var(series, period, with_variance=True)
    spread = num_std * np.sqrt(variance)
    return BollingerBands(
        upper=_placed(start, middle + spread),
        middle=_placed(start, middle),
        lower=_placed(start, middle - spread),
    )


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """Greatest of high - low and the gaps from the previous close; NaN on the first bar."""
    start, (high_s, low_s, close_s) = _valid_tail(high=high, low=low, close=close)
    return _placed(start, _true_range(high_s, low_s, close_s))


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's average true range; first value at ``period`` (the first bar has no range)."""
    _check_period(period, "period")
    start, (high_s, low_s, close_s) = _valid_tail(high=high, low=low, close=close)
    out = np.full(high_s.size, np.nan)
    ranges = _true_range(high_s, low_s, close_s)
    out[1:] = _seeded_average(ranges[1:], period, 1.0 / period)
    return _placed(start, out)


def volume_average(volume: ArrayLike, period: int = 20) -> FloatArray:
    """Average traded volume of the last ``period`` bars (an SMA of volume)."""
    return sma(volume, period)


def price_change_pct(close: ArrayLike, bars: int = 1) -> FloatArray:
    """Percent change of the close over ``bars`` bars; NaN where the earlier close is 0."""
    _check_period(bars, "bars")
    start, (series,) = _valid_tail(close=close)
    out = np.full(series.size, np.nan)
    if series.size > bars:
        base = series[:-bars]
        ratio = np.divide(series[bars:], base, out=np.full(base.size, np.nan), where=base != 0)
        out[bars:] = (ratio - 1.0) * PERCENT
    return _placed(start, out)


# --- kernels: finite input, full-length output with NaN warm-up -----------------------


def _ema_alpha(period: int) -> float:
    return 2.0 / (period + 1)


def _seeded_average(
    values: FloatArray, period: int, alpha: float, seed_end: int | None = None
) -> FloatArray:
    """``y[i] = alpha * values[i] + (1 - alpha) * y[i - 1]`` from ``seed_end`` on, where
    ``y[seed_end]`` is the mean of the ``period`` values ending there (default ``period - 1``).

    The recursion runs in C through ``lfilter`` (an IIR filter of order one): the exact
    sequential recursion, about 30 times faster than a Python loop, and faster than the
    blocked matrix formulations numpy alone allows (measured in docs/INDICATORS.md).
    """
    # scipy.signal takes most of a second to import: pay it on the first indicator, not in
    # every process that merely imports this module. The server pays it at start-up
    # (hyperoru.warmup), never inside a request.
    from scipy.signal import lfilter

    end = period - 1 if seed_end is None else seed_end
    out = np.full(values.size, np.nan)
    if values.size <= end:
        return out
    seed = float(values[end - period + 1 : end + 1].mean())
    out[end] = seed
    smoothed, _ = lfilter([alpha], [1.0, alpha - 1.0], values[end + 1 :], zi=[(1 - alpha) * seed])
    out[end + 1 :] = smoothed
    return out


def _rolling_mean_var(
    values: FloatArray, period: int, *, with_variance: bool
) -> tuple[FloatArray, FloatArray]:
    """Mean and population variance of every ``period``-long window, in O(n).

    A running total over the whole series (cumsum differences, or TA-Lib's running sums)
    loses digits as the total grows, and ``E[x²] - E[x]²`` cancels badly when the price is
    large next to its spread. Instead the series is cut into blocks of ``period``: a window
    ending in block k lies within blocks k-1 and k, so prefix sums restarted on each such
    pair, after subtracting a value taken from the pair, keep every total at the pair's own
    scale. The cost is two passes over the data instead of one.
    """
    size = values.size
    mean = np.full(size, np.nan)
    variance = np.full(size, np.nan)
    if size < period:
        return mean, variance
    blocks = -(-size // period)
    padded = np.empty((blocks + 1) * period)
    # One leading block of padding gives the first real block a predecessor; the padding
    # only reaches windows inside the warm-up, which are blanked below.
    padded[:period] = values[0]
    padded[period : period + size] = values
    padded[period + size :] = values[-1]
    anchor = padded[period - 1 : -1 : period, np.newaxis]
    # Rows are overlapping views (block k-1 then block k); the subtraction makes the copy.
    pairs = np.lib.stride_tricks.sliding_window_view(padded, 2 * period)[::period] - anchor
    prefix = np.cumsum(pairs, axis=1)
    window_mean = (prefix[:, period:] - prefix[:, :period]) / period
    mean[:] = (anchor + window_mean).ravel()[:size]
    if with_variance:
        prefix_sq = np.cumsum(pairs * pairs, axis=1)
        window_sq = (prefix_sq[:, period:] - prefix_sq[:, :period]) / period
        # Rounding can leave a flat window a hair below zero.
        variance[:] = np.maximum(window_sq - window_mean * window_mean, 0.0).ravel()[:size]
        # The subtraction of prefix sums loses digits in proportion to the largest prefix
        # of the pair, its total (squares only grow it).
        pair_scale = np.broadcast_to(prefix_sq[:, -1:] / period, window_sq.shape)
        _redo_cancelled_windows(values, period, pair_scale.ravel()[:size], mean, variance)
    mean[: period - 1] = np.nan
    variance[: period - 1] = np.nan
    return mean, variance


CANCELLATION_LIMIT = 1e6
"""A window whose pair of blocks holds squared distances from the anchor this many times its
variance may have lost more than ~1e-10 of that variance to cancellation (a jump next to a
quiet stretch), so it is recomputed directly."""

REDO_CHUNK = 65_536


def _redo_cancelled_windows(
    values: FloatArray,
    period: int,
    pair_scale: FloatArray,
    mean: FloatArray,
    variance: FloatArray,
) -> None:
    """Two-pass mean and variance for the windows the prefix sums cannot resolve; on market
    data these are few (quiet stretches next to a jump), so the cost stays O(n)."""
    ends = np.flatnonzero(pair_scale > CANCELLATION_LIMIT * variance)
    ends = ends[ends >= period - 1]
    windows = np.lib.stride_tricks.sliding_window_view(values, period)
    # Chunks bound the memory of the gathered windows on adversarial input.
    for chunk in np.array_split(ends, -(-ends.size // REDO_CHUNK)) if ends.size else ():
        gathered = windows[chunk - period + 1]
        mean[chunk] = gathered.mean(axis=1)
        variance[chunk] = gathered.var(axis=1)


def _true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    out = np.full(high.size, np.nan)
    if high.size > 1:
        previous = close[:-1]
        gaps = np.maximum(np.abs(high[1:] - previous), np.abs(low[1:] - previous))
        out[1:] = np.maximum(high[1:] - low[1:], gaps)
    return out


# --- input checks and alignment ----------------------------------------------------------


def _check_period(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1")


def _valid_tail(**named: ArrayLike) -> tuple[int, list[FloatArray]]:
    """The common start of valid data (after every input's leading NaN) and each input
    from there on; refuses other non-finite values and inputs of different lengths."""
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in named.items()}
    sizes = {array.size for array in arrays.values()}
    if len(sizes) > 1:
        raise ValueError(f"{', '.join(arrays)} must have the same length")
    start = 0
    for name, array in arrays.items():
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D series")
        finite = np.isfinite(array)
        first = int(np.argmax(finite)) if finite.any() else array.size
        if not (np.isnan(array[:first]).all() and finite[first:].all()):
            raise ValueError(f"{name} must be finite after its leading NaN")
        start = max(start, first)
    return start, [array[start:] for array in arrays.values()]


def _placed(start: int, tail: FloatArray) -> FloatArray:
    """``tail`` realigned with the full input: NaN for the ``start`` skipped positions."""
    if start == 0:
        return tail
    out = np.full(start + tail.size, np.nan)
    out[start:] = tail
    return out
