"""The indicator module against TA-Lib, the reference it must match to 1e-9 relative."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hyperoru.market import indicators

RTOL = 1e-9
LENGTHS = [0, 1, 2, 13, 14, 15, 19, 20, 25, 26, 33, 34, 35, 200, 5_000, 100_000]


def random_walk(length: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + length)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, length)))
    wick = np.abs(rng.normal(0.0, 0.004, (2, length)))
    return {
        "high": close * (1.0 + wick[0]),
        "low": close * (1.0 - wick[1]),
        "close": close,
        "volume": rng.lognormal(3.0, 1.0, length),
    }


def window_std(values: np.ndarray, period: int) -> np.ndarray:
    """Population standard deviation of each window, computed directly (two-pass)."""
    out = np.full(values.size, np.nan)
    if values.size >= period:
        windows = np.lib.stride_tricks.sliding_window_view(values, period)
        out[period - 1 :] = windows.std(axis=1)
    return out


def assert_matches(ours: np.ndarray, reference: np.ndarray, scale: float = 0.0) -> None:
    """Same length, NaN exactly where the reference has NaN, values within RTOL.

    ``scale`` turns the tolerance into one relative to the price scale, for outputs that are
    differences of price-sized terms (MACD) and cross zero, where relative-to-value is
    meaningless.
    """
    assert ours.dtype == np.float64
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=RTOL * scale)


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("period", [2, 20, 200])
def test_sma_matches_talib(length: int, period: int) -> None:
    close = random_walk(length)["close"]
    assert_matches(indicators.sma(close, period), talib.SMA(close, period))


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("period", [2, 12, 26, 50])
def test_ema_matches_talib(length: int, period: int) -> None:
    close = random_walk(length)["close"]
    assert_matches(indicators.ema(close, period), talib.EMA(close, period))


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_talib(length: int, period: int) -> None:
    close = random_walk(length)["close"]
    assert_matches(indicators.rsi(close, period), talib.RSI(close, period))


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 4, 2)])
def test_macd_matches_talib(length: int, fast: int, slow: int, signal: int) -> None:
    close = random_walk(length)["close"]
    ours = indicators.macd(close, fast, slow, signal)
    line, signal_line, histogram = talib.MACD(close, fast, slow, signal)
    scale = float(np.max(close, initial=0.0))
    assert_matches(ours.macd, line, scale)
    assert_matches(ours.signal, signal_line, scale)
    assert_matches(ours.histogram, histogram, scale)


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize(("period", "num_std"), [(20, 2.0), (10, 1.5), (50, 3.0)])
def test_bollinger_matches_talib(length: int, period: int, num_std: float) -> None:
    close = random_walk(length)["close"]
    ours = indicators.bollinger_bands(close, period, num_std)
    upper, middle, lower = talib.BBANDS(close, period, num_std, num_std, talib.MA_Type.SMA)
    assert_matches(ours.upper, upper)
    assert_matches(ours.middle, middle)
    assert_matches(ours.lower, lower)


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("period", [1, 14, 30])
def test_atr_and_true_range_match_talib(length: int, period: int) -> None:
    candles = random_walk(length)
    high, low, close = candles["high"], candles["low"], candles["close"]
    assert_matches(indicators.atr(high, low, close, period), talib.ATR(high, low, close, period))
    assert_matches(indicators.true_range(high, low, close), talib.TRANGE(high, low, close))


@pytest.mark.parametrize("length", LENGTHS)
def test_volume_average_and_price_change_match_talib(length: int) -> None:
    candles = random_walk(length)
    volume, close = candles["volume"], candles["close"]
    assert_matches(indicators.volume_average(volume, 20), talib.SMA(volume, 20))
    for bars in (1, 24):
        assert_matches(indicators.price_change_pct(close, bars), talib.ROC(close, bars))


def test_price_near_a_million_keeps_bollinger_and_sma_accurate() -> None:
    # Large prices with a small spread are where running sums of squares cancel.
    close = 1_000_000.0 + np.cumsum(np.random.default_rng(5).normal(0.0, 0.5, 50_000))
    assert_matches(indicators.sma(close, 20), talib.SMA(close, 20))
    ours = indicators.bollinger_bands(close)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
    assert_matches(ours.upper, upper)
    assert_matches(ours.middle, middle)
    assert_matches(ours.lower, lower)
    np.testing.assert_allclose((ours.upper - ours.middle) / 2, window_std(close, 20), rtol=1e-8)


def test_warm_up_lengths_are_documented_ones() -> None:
    candles = random_walk(300)
    high, low, close = candles["high"], candles["low"], candles["close"]
    macd = indicators.macd(close)
    bands = indicators.bollinger_bands(close)
    first_valid = {
        "sma 20": indicators.sma(close, 20),
        "ema 20": indicators.ema(close, 20),
        "rsi 14": indicators.rsi(close),
        "atr 14": indicators.atr(high, low, close),
        "true range": indicators.true_range(high, low, close),
        "macd": macd.macd,
        "macd signal": macd.signal,
        "macd histogram": macd.histogram,
        "bollinger upper": bands.upper,
        "bollinger lower": bands.lower,
        "price change 5": indicators.price_change_pct(close, 5),
    }
    expected = {
        "sma 20": 19,
        "ema 20": 19,
        "rsi 14": 14,
        "atr 14": 14,
        "true range": 1,
        "macd": 33,
        "macd signal": 33,
        "macd histogram": 33,
        "bollinger upper": 19,
        "bollinger lower": 19,
        "price change 5": 5,
    }
    for name, values in first_valid.items():
        start = expected[name]
        assert np.isnan(values[:start]).all(), name
        assert np.isfinite(values[start:]).all(), name


def vars_of(result: object) -> list[np.ndarray]:
    return [getattr(result, field.name) for field in dataclasses.fields(result)]  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [0, 1, 5, 13])
def test_series_shorter_than_the_period_is_all_nan(length: int) -> None:
    candles = random_walk(length)
    high, low, close = candles["high"], candles["low"], candles["close"]
    outputs = [
        indicators.sma(close, 14),
        indicators.ema(close, 14),
        indicators.rsi(close, 14),
        indicators.atr(high, low, close, 14),
        indicators.volume_average(candles["volume"], 14),
        indicators.price_change_pct(close, 14),
        *vars_of(indicators.macd(close)),
        *vars_of(indicators.bollinger_bands(close, 14)),
    ]
    for values in outputs:
        assert values.shape == (length,)
        assert np.isnan(values).all()


def test_flat_prices() -> None:
    flat = np.full(60, 42.0)
    # Documented departure: no movement at all is a neutral RSI of 50, where TA-Lib says 0.
    assert np.all(indicators.rsi(flat)[14:] == 50.0)
    assert np.all(talib.RSI(flat, 14)[14:] == 0.0)
    bands = indicators.bollinger_bands(flat)
    for band in (bands.upper, bands.middle, bands.lower):
        np.testing.assert_allclose(band[19:], 42.0, rtol=1e-15)
    assert np.all(indicators.atr(flat, flat, flat)[14:] == 0.0)
    np.testing.assert_allclose(indicators.ema(flat, 10)[9:], 42.0, rtol=1e-15)
    macd = indicators.macd(flat)
    np.testing.assert_allclose(macd.histogram[33:], 0.0, atol=1e-12)
    assert np.all(indicators.price_change_pct(flat, 3)[3:] == 0.0)


def test_rsi_after_a_flat_stretch_follows_the_only_move() -> None:
    rising = np.r_[np.full(20, 5.0), np.full(10, 6.0)]
    falling = np.r_[np.full(20, 5.0), np.full(10, 4.0)]
    assert np.all(indicators.rsi(rising)[20:] == 100.0)
    assert np.all(indicators.rsi(falling)[20:] == 0.0)
    assert np.all(indicators.rsi(rising)[14:20] == 50.0)


def test_price_change_from_zero_is_nan() -> None:
    change = indicators.price_change_pct(np.array([0.0, 2.0, 3.0]), 1)
    assert np.isnan(change[1])
    assert change[2] == pytest.approx(50.0)


def test_leading_nan_is_missing_history_like_talib() -> None:
    close = np.r_[np.full(7, np.nan), random_walk(80)["close"]]
    assert_matches(indicators.ema(close, 10), talib.EMA(close, 10))
    assert_matches(indicators.rsi(close, 14), talib.RSI(close, 14))
    # Chaining: an SMA of RSI starts once the RSI exists.
    rsi_average = indicators.sma(indicators.rsi(close, 14), 5)
    assert_matches(rsi_average, talib.SMA(talib.RSI(close, 14), 5))


def test_multi_input_indicators_start_where_every_input_is_valid() -> None:
    candles = random_walk(60)
    high = candles["high"].copy()
    high[:4] = np.nan
    atr = indicators.atr(high, candles["low"], candles["close"], 14)
    assert np.isnan(atr[: 4 + 14]).all()
    assert np.isfinite(atr[4 + 14 :]).all()


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1.0, np.nan, 3.0]),
        np.array([1.0, np.inf, 3.0]),
        np.array([np.nan, -np.inf, 3.0]),
        np.ones((3, 3)),
    ],
)
def test_bad_series_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        indicators.sma(bad, 2)


@pytest.mark.parametrize("period", [0, -3, 2.5, True])
def test_bad_periods_are_refused(period: object) -> None:
    with pytest.raises(ValueError, match="period"):
        indicators.ema(np.ones(10), period)  # type: ignore[arg-type]


def test_other_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="fast"):
        indicators.macd(np.ones(50), fast=26, slow=12)
    with pytest.raises(ValueError, match="num_std"):
        indicators.bollinger_bands(np.ones(50), 20, float("nan"))
    with pytest.raises(ValueError, match="same length"):
        indicators.atr(np.ones(10), np.ones(9), np.ones(10))


def test_inputs_are_not_modified_and_lists_are_accepted() -> None:
    close = random_walk(50)["close"]
    kept = close.copy()
    indicators.rsi(close)
    indicators.bollinger_bands(close)
    np.testing.assert_array_equal(close, kept)
    np.testing.assert_array_equal(indicators.sma(close.tolist(), 5), indicators.sma(close, 5))


prices = arrays(
    np.float64,
    st.integers(0, 250),
    elements=st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(close=prices, period=st.integers(2, 40))
def test_any_positive_series_matches_talib(close: np.ndarray, period: int) -> None:
    # Arbitrary jumps across eight orders of magnitude: compare at the series' own scale.
    scale = float(np.max(close, initial=0.0))
    assert_matches(indicators.sma(close, period), talib.SMA(close, period), scale)
    assert_matches(indicators.ema(close, period), talib.EMA(close, period), scale)
    assert_matches(
        indicators.atr(close, close, close, period), talib.ATR(close, close, close, period), scale
    )
    bands = indicators.bollinger_bands(close, period)
    upper, middle, lower = talib.BBANDS(close, period, 2.0, 2.0, talib.MA_Type.SMA)
    assert_matches(bands.upper, upper, scale)
    assert_matches(bands.middle, middle, scale)
    assert_matches(bands.lower, lower, scale)
    # Where a jump makes running sums of squares cancel, the width must stay exact.
    np.testing.assert_allclose(
        (bands.upper - bands.middle) / 2, window_std(close, period), rtol=1e-8, atol=1e-12 * scale
    )
    ours_rsi, reference_rsi = indicators.rsi(close, period), talib.RSI(close, period)
    moved = reference_rsi != 0.0  # TA-Lib's 0 for a window without movement is not ours
    assert_matches(ours_rsi[moved], reference_rsi[moved], 100.0)


@settings(max_examples=60, deadline=None)
@given(close=prices, period=st.integers(1, 40))
def test_outputs_are_bounded_and_nan_free_after_the_warm_up(close: np.ndarray, period: int) -> None:
    rsi = indicators.rsi(close, period)
    assert np.isnan(rsi[: min(period, close.size)]).all()
    assert np.isfinite(rsi[period:]).all()
    assert ((rsi[period:] >= 0.0) & (rsi[period:] <= 100.0)).all()
    bands = indicators.bollinger_bands(close, period)
    valid = slice(period - 1, None)
    assert np.isfinite(bands.middle[valid]).all()
    assert (bands.lower[valid] <= bands.middle[valid]).all()
    assert (bands.middle[valid] <= bands.upper[valid]).all()
    atr = indicators.atr(close, close, close, period)
    assert (atr[period:] >= 0.0).all()


@settings(max_examples=40, deadline=None)
@given(close=prices, factor=st.sampled_from([1e-3, 7.0, 1e4]))
def test_rsi_ignores_the_price_unit(close: np.ndarray, factor: float) -> None:
    np.testing.assert_allclose(
        indicators.rsi(close * factor), indicators.rsi(close), rtol=1e-9, atol=1e-9
    )
