"""Market regime of a candle series: trending_up, trending_down, ranging, volatile or calm.

Pure, deterministic rules over the shared indicators; the rules and their thresholds are
written down in ``docs/MARKET_REGIME.md``, which must change with them. Every bar gets the
first regime whose rule holds:

1. ``calm``      Bollinger width below ``flat_width_pct`` of the price (a near-constant price,
                 whatever its history);
2. ``volatile``  ATR% at least ``volatile_ratio`` times its own average over
                 ``volatility_history`` bars (volatility expanding; checked before the trend
                 because a shock matters more to risk than the direction it takes);
3. ``trending_up`` / ``trending_down``  efficiency ratio over ``trend_bars`` at least
                 ``trend_efficiency``, direction from the net change over those bars;
4. ``calm``      ATR% at most ``calm_ratio`` times its own average (volatility contracting);
5. ``ranging``   everything else.

The efficiency ratio (Kaufman) is ``|close[t] - close[t-n]| / sum(|close[i] - close[i-1]|)``
over the last ``n`` bars: 1 for a straight line, near 0 for noise that goes nowhere. It
measures trend strength without ADX and without a unit, like the other two measures, so one
set of thresholds serves every symbol and interval (only ``flat_width_pct`` is absolute).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hyperoru.market import indicators
from hyperoru.market.indicators import FloatArray

PERCENT = 100.0
WARM_UP = -1


class MarketRegime(StrEnum):
    TRENDING_UP = "trending_up"
    TRENDING_DOWN = "trending_down"
    RANGING = "ranging"
    VOLATILE = "volatile"
    CALM = "calm"


REGIMES: tuple[MarketRegime, ...] = tuple(MarketRegime)
"""``regime_codes`` returns positions in this tuple (and ``WARM_UP`` before enough bars)."""

_CODE = {regime: code for code, regime in enumerate(REGIMES)}


@dataclass(frozen=True, slots=True)
class RegimeRules:
    trend_bars: int = 20
    trend_efficiency: float = 0.4
    atr_period: int = 14
    volatility_history: int = 100
    volatile_ratio: float = 1.5
    calm_ratio: float = 0.6
    bollinger_period: int = 20
    bollinger_std: float = 2.0
    flat_width_pct: float = 0.05

    @property
    def min_bars(self) -> int:
        """Bars needed before the first classified one (114 with the defaults)."""
        return max(
            self.trend_bars + 1,
            self.atr_period + self.volatility_history,
            self.bollinger_period,
        )


DEFAULT_RULES = RegimeRules()


@dataclass(frozen=True, slots=True)
class RegimeMetrics:
    """The measures the rules read, one value per bar (NaN during the warm-up)."""

    efficiency: FloatArray
    change_pct: FloatArray
    atr_pct: FloatArray
    volatility_ratio: FloatArray
    bollinger_width_pct: FloatArray


@dataclass(frozen=True, slots=True)
class RegimeReading:
    """The regime of the last bar with the measures that decided it."""

    regime: MarketRegime
    efficiency: float
    change_pct: float
    atr_pct: float
    volatility_ratio: float
    bollinger_width_pct: float


def regime_metrics(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, rules: RegimeRules = DEFAULT_RULES
) -> RegimeMetrics:
    close_prices = np.asarray(close, dtype=np.float64)
    if np.any(close_prices <= 0):
        raise ValueError("close prices must be positive")
    n = rules.trend_bars

    net_move = np.full(close_prices.size, np.nan)
    net_move[n:] = np.abs(close_prices[n:] - close_prices[:-n])
    path = np.full(close_prices.size, np.nan)
    path[1:] = indicators.sma(np.abs(np.diff(close_prices)), n) * n
    # A path of zero length went nowhere: no trend at all.
    efficiency = _ratio(net_move, path, when_zero=0.0)

    atr_pct = indicators.atr(high, low, close_prices, rules.atr_period) / close_prices * PERCENT
    usual_atr_pct = indicators.sma(atr_pct, rules.volatility_history)
    # Flat history and flat now: volatility did not change.
    volatility_ratio = _ratio(atr_pct, usual_atr_pct, when_zero=1.0)

    bands = indicators.bollinger_bands(close_prices, rules.bollinger_period, rules.bollinger_std)
    return RegimeMetrics(
        efficiency=efficiency,
        change_pct=indicators.price_change_pct(close_prices, n),
        atr_pct=atr_pct,
        volatility_ratio=volatility_ratio,
        bollinger_width_pct=(bands.upper - bands.lower) / bands.middle * PERCENT,
    )


def regime_codes(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, rules: RegimeRules = DEFAULT_RULES
) -> NDArray[np.int8]:
    """The regime of every bar as a position in ``REGIMES``; ``WARM_UP`` without history."""
    return _codes(regime_metrics(high, low, close, rules), rules)


def classify_regime(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, rules: RegimeRules = DEFAULT_RULES
) -> RegimeReading | None:
    """The regime of the last bar, or None with fewer than ``rules.min_bars`` valid bars."""
    metrics = regime_metrics(high, low, close, rules)
    codes = _codes(metrics, rules)
    if codes.size == 0 or codes[-1] == WARM_UP:
        return None
    return RegimeReading(
        regime=REGIMES[codes[-1]],
        efficiency=float(metrics.efficiency[-1]),
        change_pct=float(metrics.change_pct[-1]),
        atr_pct=float(metrics.atr_pct[-1]),
        volatility_ratio=float(metrics.volatility_ratio[-1]),
        bollinger_width_pct=float(metrics.bollinger_width_pct[-1]),
    )


def _codes(metrics: RegimeMetrics, rules: RegimeRules) -> NDArray[np.int8]:
    trending = metrics.efficiency >= rules.trend_efficiency
    # Order matters: the first rule that holds wins (see the module docstring).
    ruled = [
        (metrics.bollinger_width_pct < rules.flat_width_pct, MarketRegime.CALM),
        (metrics.volatility_ratio >= rules.volatile_ratio, MarketRegime.VOLATILE),
        (trending & (metrics.change_pct > 0), MarketRegime.TRENDING_UP),
        (trending & (metrics.change_pct < 0), MarketRegime.TRENDING_DOWN),
        (metrics.volatility_ratio <= rules.calm_ratio, MarketRegime.CALM),
    ]
    codes = np.select(
        [condition for condition, _ in ruled],
        [_CODE[regime] for _, regime in ruled],
        default=_CODE[MarketRegime.RANGING],
    ).astype(np.int8)
    ready = np.logical_and.reduce(
        [
            np.isfinite(metrics.efficiency),
            np.isfinite(metrics.change_pct),
            np.isfinite(metrics.volatility_ratio),
            np.isfinite(metrics.bollinger_width_pct),
        ]
    )
    codes[~ready] = WARM_UP
    return codes


def _ratio(numerator: FloatArray, denominator: FloatArray, *, when_zero: float) -> FloatArray:
    """``numerator / denominator`` that stays NaN where either is, ``when_zero`` for 0 / 0."""
    out = np.where(np.isnan(numerator) | np.isnan(denominator), np.nan, when_zero)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out
