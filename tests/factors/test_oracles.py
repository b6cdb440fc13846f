"""Function values against TA-Lib and pandas to 1e-9 (relative), and hand-worked cases."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import talib

from hyperoru.factors.bars import bars_from_arrays
from hyperoru.factors.catalogue import BUILTINS, builtin_trees
from hyperoru.factors.evaluate import evaluate, evaluate_many
from hyperoru.factors.language import parse
from tests.factors.data import START, random_bars

BARS = random_bars()
OP, H, L, C, V = (BARS.open, BARS.high, BARS.low, BARS.close, BARS.volume)
RTOL = 1e-9


def _same(ours: np.ndarray, oracle: np.ndarray, atol: float = 1e-12) -> None:
    """Equal to 1e-9 where the oracle has values, and undefined exactly where it has none."""
    oracle = np.asarray(oracle, dtype=np.float64)
    assert np.array_equal(np.isnan(ours), np.isnan(oracle)), np.flatnonzero(
        np.isnan(ours) != np.isnan(oracle)
    )[:10]
    np.testing.assert_allclose(ours, oracle, rtol=RTOL, atol=atol, equal_nan=True)


def _each_row(function, *columns) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.vstack([function(*(c[row] for c in columns)) for row in range(C.shape[0])])


def _ours(expression: str) -> np.ndarray:
    return evaluate(parse(expression), BARS)


TALIB_CASES = [
    ("sma(close, 20)", lambda: _each_row(lambda c: talib.SMA(c, 20), C)),
    ("ema(close, 20)", lambda: _each_row(lambda c: talib.EMA(c, 20), C)),
    ("ema(20)", lambda: _each_row(lambda c: talib.EMA(c, 20), C)),
    ("wma(close, 10)", lambda: _each_row(lambda c: talib.WMA(c, 10), C)),
    ("rsi(14)", lambda: _each_row(lambda c: talib.RSI(c, 14), C)),
    ("macd(12, 26, 9)", lambda: _each_row(lambda c: talib.MACD(c, 12, 26, 9)[0], C)),
    ("macd_signal(12, 26, 9)", lambda: _each_row(lambda c: talib.MACD(c, 12, 26, 9)[1], C)),
    ("macd_hist(12, 26, 9)", lambda: _each_row(lambda c: talib.MACD(c, 12, 26, 9)[2], C)),
    ("atr(14)", lambda: _each_row(lambda h, lo, c: talib.ATR(h, lo, c, 14), H, L, C)),
    ("adx(14)", lambda: _each_row(lambda h, lo, c: talib.ADX(h, lo, c, 14), H, L, C)),
    ("adx(5)", lambda: _each_row(lambda h, lo, c: talib.ADX(h, lo, c, 5), H, L, C)),
    (
        "stoch_k(14, 3)",
        # TA-Lib's STOCH withholds %K until %D starts: its own fast %K smoothed instead.
        lambda: _each_row(
            lambda h, lo, c: talib.SMA(talib.STOCHF(h, lo, c, 14, 1, 0)[0], 3), H, L, C
        ),
    ),
    (
        "stoch_d(14, 3, 3)",
        lambda: _each_row(lambda h, lo, c: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[1], H, L, C),
    ),
    ("williams_r(14)", lambda: _each_row(lambda h, lo, c: talib.WILLR(h, lo, c, 14), H, L, C)),
    ("cci(20)", lambda: _each_row(lambda h, lo, c: talib.CCI(h, lo, c, 20), H, L, C)),
    ("mfi(14)", lambda: _each_row(lambda h, lo, c, v: talib.MFI(h, lo, c, v, 14), H, L, C, V)),
    ("obv()", lambda: _each_row(talib.OBV, C, V)),
    ("roc(close, 10)", lambda: _each_row(lambda c: talib.ROCR(c, 10) - 1, C)),
    ("slope(close, 14)", lambda: _each_row(lambda c: talib.LINEARREG_SLOPE(c, 14), C)),
    (
        "bbwidth(20, 2)",
        lambda: _each_row(
            lambda c: (lambda u, m, lo: (u - lo) / m)(*talib.BBANDS(c, 20, 2, 2, 0)), C
        ),
    ),
    (
        "bb_pos(20, 2)",
        lambda: _each_row(
            lambda c: (lambda u, m, lo: (c - lo) / (u - lo))(*talib.BBANDS(c, 20, 2, 2, 0)), C
        ),
    ),
    ("corr(close, volume, 20)", lambda: _each_row(lambda c, v: talib.CORREL(c, v, 20), C, V)),
    ("highest(high, 20)", lambda: _each_row(lambda h: talib.MAX(h, 20), H)),
    ("lowest(low, 20)", lambda: _each_row(lambda lo: talib.MIN(lo, 20), L)),
]


@pytest.mark.parametrize(("expression", "oracle"), TALIB_CASES, ids=[c[0] for c in TALIB_CASES])
def test_functions_match_talib(expression: str, oracle) -> None:  # type: ignore[no-untyped-def]
    # TA-Lib's slope is n·Σxy − Σx·Σy over prices near 100: its own cancellation error is
    # ~1e-12 per bar, so near-zero slopes compare absolutely.
    _same(_ours(expression), oracle(), atol=1e-10 if expression.startswith("slope") else 1e-12)


def _frame(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values.T)


def _pandas(function) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(function().to_numpy().T, dtype=np.float64)


R = _frame(BARS.returns)
CF, VF = _frame(C), _frame(V)

PANDAS_CASES = [
    ("returns", lambda: CF.pct_change()),
    ("std(returns, 20)", lambda: R.rolling(20).std()),
    ("var(close, 10)", lambda: CF.rolling(10).var()),
    ("sum(volume, 5)", lambda: VF.rolling(5).sum()),
    ("zscore(close, 20)", lambda: (CF - CF.rolling(20).mean()) / CF.rolling(20).std()),
    ("rank(close, 50)", lambda: CF.rolling(50).rank(pct=True)),
    ("skew(returns, 50)", lambda: R.rolling(50).skew()),
    ("kurt(returns, 50)", lambda: R.rolling(50).kurt()),
    ("cov(returns, volume, 30)", lambda: R.rolling(30).cov(VF)),
    ("corr(returns, lag(returns, 1), 50)", lambda: R.rolling(50).corr(R.shift(1))),
    ("lag(close, 3)", lambda: CF.shift(3)),
    ("delta(close, 2)", lambda: CF.diff(2)),
    ("vol(20)", lambda: R.rolling(20).std()),
    ("log(close * volume)", lambda: np.log(CF * VF)),
    (
        "normalize(close, 30)",
        lambda: 2 * (CF - CF.rolling(30).min()) / (CF.rolling(30).max() - CF.rolling(30).min()) - 1,
    ),
]


@pytest.mark.parametrize(("expression", "oracle"), PANDAS_CASES, ids=[c[0] for c in PANDAS_CASES])
def test_functions_match_pandas(expression: str, oracle) -> None:  # type: ignore[no-untyped-def]
    # pandas' rolling moments are computed online and drift at ~1e-12 of the values.
    ours, theirs = _ours(expression), _pandas(oracle)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10, equal_nan=True)


def _rolling_loop(values: np.ndarray, n: int, reduce) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.full(values.shape, np.nan)
    for t in range(n - 1, values.shape[1]):
        out[:, t] = [reduce(values[row, t - n + 1 : t + 1]) for row in range(values.shape[0])]
    return out


def test_garman_klass_parkinson_vwap_cmf_by_hand() -> None:
    gk_term = 0.5 * np.log(H / L) ** 2 - (2 * math.log(2) - 1) * np.log(C / OP) ** 2
    _same(_ours("gk_vol(20)"), np.sqrt(_rolling_loop(gk_term, 20, np.mean)))
    park = np.sqrt(_rolling_loop(np.log(H / L) ** 2, 20, np.mean) / (4 * math.log(2)))
    _same(_ours("parkinson(20)"), park)
    tp = (H + L + C) / 3
    _same(_ours("vwap(10)"), _rolling_loop(tp * V, 10, np.sum) / _rolling_loop(V, 10, np.sum))
    mult = ((C - L) - (H - C)) / (H - L)
    _same(_ours("cmf(20)"), _rolling_loop(mult * V, 20, np.sum) / _rolling_loop(V, 20, np.sum))


def test_hurst_by_hand() -> None:
    n = 100
    ours = _ours("hurst(close, 100)")
    lags = [1, 2, 4, 8]
    expected = np.full(C.shape, np.nan)
    for row in range(C.shape[0]):
        for t in range(n - 1, C.shape[1]):
            window = C[row, t - n + 1 : t + 1]
            logs = [np.log(np.std(window[k:] - window[:-k], ddof=1)) for k in lags]
            expected[row, t] = np.polyfit(np.log(lags), logs, 1)[0]
    _same(ours, expected)


def test_hand_worked_arithmetic() -> None:
    bars = bars_from_arrays(
        ["A"],
        [START + timedelta(hours=i) for i in range(4)],
        open=np.array([[1.0, 2, 3, 4]]),
        high=np.array([[2.0, 3, 4, 5]]),
        low=np.array([[0.5, 1, 2, 3]]),
        close=np.array([[1.0, 2, 4, 8]]),
        volume=np.array([[10.0, 0, 30, 40]]),
    )
    assert evaluate(parse("close * 2 - -1"), bars).tolist() == [[3.0, 5.0, 9.0, 17.0]]
    assert evaluate(parse("-(close - 3) / 2"), bars).tolist() == [[1.0, 0.5, -0.5, -2.5]]
    assert evaluate(parse("1 + 2 * 3 - 4 / 2"), bars).tolist() == [[5.0] * 4]
    sma = evaluate(parse("sma(close, 2)"), bars)
    assert np.isnan(sma[0, 0]) and sma[0, 1:].tolist() == [1.5, 3.0, 6.0]
    roc = evaluate(parse("roc(close, 1)"), bars)
    assert np.isnan(roc[0, 0]) and roc[0, 1:].tolist() == [1.0, 1.0, 1.0]
    # A division by zero is undefined (NaN, reported null), never an infinity.
    ratio = evaluate(parse("close / (volume - volume)"), bars)
    assert np.isnan(ratio).all()
    change = evaluate(parse("roc(volume, 1)"), bars)
    assert np.isnan(change[0, 2]) and change[0, 3] == pytest.approx(1 / 3)
    assert evaluate(parse("sign(close - 3)"), bars).tolist() == [[-1.0, -1.0, 1.0, 1.0]]
    assert np.isnan(evaluate(parse("log(close - 2)"), bars)[0, :2]).all()


def test_recursive_average_restarts_after_a_gap() -> None:
    # ema over a series with an undefined value: the average starts again after it.
    bars = random_bars(symbols=1, bars=80)
    closes = bars.close.copy()
    closes[0, 30] = 0.0  # close/close → 0/0 at bar 30
    gapped = bars_from_arrays(
        bars.symbols,
        bars.times,
        open=bars.open,
        high=bars.high,
        low=bars.low,
        close=closes,
        volume=bars.volume,
    )
    ours = evaluate(parse("ema(volume / close * close, 5)"), gapped)
    expected = np.full(80, np.nan)
    expected[31:] = talib.EMA(bars.volume[0, 31:], 5)
    _same(ours[0], expected)


def test_the_whole_catalogue_evaluates_to_finite_or_null() -> None:
    bars = random_bars(symbols=4, bars=400)
    values = evaluate_many(builtin_trees(), bars)
    assert len(values) == len(BUILTINS) == 64
    for name, matrix in values.items():
        assert matrix.shape == (4, 400)
        assert not np.isinf(matrix).any(), name
        assert np.isfinite(matrix[:, -1]).all(), name  # warmed up after 400 bars
