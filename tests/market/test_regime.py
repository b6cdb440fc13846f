"""Market regime rules on constructed series whose regime is known by construction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hyperoru.market.regime import (
    DEFAULT_RULES,
    REGIMES,
    WARM_UP,
    MarketRegime,
    RegimeRules,
    classify_regime,
    regime_codes,
)

Candles = tuple[np.ndarray, np.ndarray, np.ndarray]


def candles_from_returns(returns: np.ndarray, seed: int, wick: float = 0.002) -> Candles:
    """Closes from per-bar log returns, with highs and lows a small random wick away."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(returns))
    wicks = np.abs(rng.normal(0.0, wick, (2, close.size)))
    return close * (1.0 + wicks[0]), close * (1.0 - wicks[1]), close


def noise(size: int, sigma: float, seed: int, drift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(drift, sigma, size)


def share_of(candles: Candles, regime: MarketRegime) -> float:
    codes = regime_codes(*candles)
    classified = codes[codes != WARM_UP]
    return float(np.mean(classified == REGIMES.index(regime)))


def last_regime(candles: Candles) -> MarketRegime:
    reading = classify_regime(*candles)
    assert reading is not None
    return reading.regime


def test_steady_uptrend_is_trending_up() -> None:
    candles = candles_from_returns(noise(400, 0.01, seed=1, drift=0.008), seed=1)
    assert last_regime(candles) is MarketRegime.TRENDING_UP
    assert share_of(candles, MarketRegime.TRENDING_UP) > 0.8
    assert share_of(candles, MarketRegime.TRENDING_DOWN) == 0.0


def test_steady_downtrend_is_trending_down() -> None:
    candles = candles_from_returns(noise(400, 0.01, seed=2, drift=-0.008), seed=2)
    assert last_regime(candles) is MarketRegime.TRENDING_DOWN
    assert share_of(candles, MarketRegime.TRENDING_DOWN) > 0.8
    assert share_of(candles, MarketRegime.TRENDING_UP) == 0.0


def test_noise_around_a_level_is_ranging() -> None:
    # Returns that cancel out: the close is a fixed level times independent noise.
    levels = noise(600, 0.01, seed=3)
    returns = np.diff(levels, prepend=0.0)
    candles = candles_from_returns(returns, seed=3)
    assert last_regime(candles) is MarketRegime.RANGING
    assert share_of(candles, MarketRegime.RANGING) > 0.95


def test_volatility_spike_is_volatile() -> None:
    returns = np.r_[noise(300, 0.005, seed=4), noise(8, 0.03, seed=5)]
    candles = candles_from_returns(returns, seed=4)
    reading = classify_regime(*candles)
    assert reading is not None
    assert reading.regime is MarketRegime.VOLATILE
    assert reading.volatility_ratio >= DEFAULT_RULES.volatile_ratio


def test_volatility_contraction_is_calm() -> None:
    # A wild random walk, then quiet noise around where it stopped.
    quiet_levels = noise(30, 0.002, seed=7)
    returns = np.r_[noise(300, 0.02, seed=6), np.diff(quiet_levels, prepend=0.0)]
    candles = candles_from_returns(returns, seed=6, wick=0.0005)
    reading = classify_regime(*candles)
    assert reading is not None
    assert reading.regime is MarketRegime.CALM
    assert reading.volatility_ratio <= DEFAULT_RULES.calm_ratio


def test_near_constant_price_is_calm_throughout() -> None:
    rng = np.random.default_rng(8)
    close = 100.0 + rng.normal(0.0, 1e-5, 500)
    candles = (close + 1e-6, close - 1e-6, close)
    assert share_of(candles, MarketRegime.CALM) == 1.0


def test_exactly_constant_price_is_calm() -> None:
    flat = np.full(200, 3.5)
    reading = classify_regime(flat, flat, flat)
    assert reading is not None
    assert reading.regime is MarketRegime.CALM
    assert reading.efficiency == 0.0
    assert reading.volatility_ratio == 1.0
    assert reading.bollinger_width_pct == 0.0


def test_warm_up_needs_min_bars() -> None:
    candles = candles_from_returns(noise(DEFAULT_RULES.min_bars, 0.01, seed=9), seed=9)
    short = tuple(series[:-1] for series in candles)
    assert DEFAULT_RULES.min_bars == 114
    assert classify_regime(*short) is None
    assert (regime_codes(*short) == WARM_UP).all()
    assert classify_regime(*candles) is not None
    codes = regime_codes(*candles)
    assert (codes[:-1] == WARM_UP).all()
    assert codes[-1] != WARM_UP
    assert classify_regime(np.array([]), np.array([]), np.array([])) is None


def test_last_code_agrees_with_the_reading_and_is_deterministic() -> None:
    candles = candles_from_returns(noise(1_000, 0.01, seed=10), seed=10)
    codes = regime_codes(*candles)
    np.testing.assert_array_equal(codes, regime_codes(*candles))
    for end in range(DEFAULT_RULES.min_bars, 1_000, 37):
        prefix = tuple(series[:end] for series in candles)
        reading = classify_regime(*prefix)
        assert reading is not None
        # Past bars do not depend on later ones, so a prefix's last bar equals the full run.
        assert REGIMES[codes[end - 1]] is reading.regime


def test_regime_ignores_the_price_unit() -> None:
    high, low, close = candles_from_returns(noise(800, 0.01, seed=11), seed=11)
    codes = regime_codes(high, low, close)
    np.testing.assert_array_equal(codes, regime_codes(high * 1e4, low * 1e4, close * 1e4))


def test_thresholds_are_honoured() -> None:
    candles = candles_from_returns(noise(400, 0.01, seed=12, drift=0.005), seed=12)
    never_trending = dataclasses.replace(DEFAULT_RULES, trend_efficiency=1.01)
    reading = classify_regime(*candles, rules=never_trending)
    assert reading is not None
    assert reading.regime is MarketRegime.RANGING
    always_flat = RegimeRules(flat_width_pct=1e9)
    assert classify_regime(*candles, rules=always_flat).regime is MarketRegime.CALM  # type: ignore[union-attr]


def test_regimes_have_their_documented_names() -> None:
    assert [regime.value for regime in REGIMES] == [
        "trending_up",
        "trending_down",
        "ranging",
        "volatile",
        "calm",
    ]


def test_non_positive_prices_are_refused() -> None:
    close = np.r_[np.full(150, 10.0), 0.0]
    with pytest.raises(ValueError, match="positive"):
        regime_codes(close, close, close)
