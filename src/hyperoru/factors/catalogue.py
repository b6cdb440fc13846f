"""The 64 built-in factors in 6 categories.

The ones the public documentation names keep its names and formulas (marked
``documented``); the rest are ours, each a common textbook factor written in the same
language a user writes custom factors in (docs/FACTORS.md lists them all).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from hyperoru.factors.language import Node, parse

CATEGORIES = ("trend", "momentum", "volatility", "volume", "statistical", "composite")


@dataclass(frozen=True, slots=True)
class BuiltinFactor:
    name: str
    category: str
    expression: str
    description: str
    documented: bool = False


def _f(
    name: str, category: str, expression: str, description: str, documented: bool = False
) -> BuiltinFactor:
    return BuiltinFactor(name, category, expression, description, documented)


T, M, V, VO, S, C = CATEGORIES
D = True

BUILTINS: tuple[BuiltinFactor, ...] = (
    # trend
    _f("trend_ema_cross", T, "ema(20) / ema(50) - 1", "EMA 20 over EMA 50, minus one", D),
    _f("trend_strength", T, "adx(14)", "ADX 14: trend strength whatever its direction", D),
    _f("trend_direction", T, "sign(close - ema(200))", "+1 above the EMA 200, -1 below", D),
    _f("price_momentum", T, "roc(close, 20)", "20-bar rate of change", D),
    _f("trend_persistence", T, "hurst(close, 100)", "Hurst exponent over 100 bars", D),
    _f("sma_cross", T, "sma(close, 10) / sma(close, 30) - 1", "SMA 10 over SMA 30, minus one"),
    _f("trend_ema_fast", T, "ema(12) / ema(26) - 1", "EMA 12 over EMA 26, minus one"),
    _f("price_vs_sma200", T, "close / sma(close, 200) - 1", "distance from the SMA 200"),
    _f(
        "ema_slope", T, "slope(ema(close, 20), 10) / close", "slope of the EMA 20 per bar, relative"
    ),
    _f("linreg_trend", T, "slope(close, 50) / close", "50-bar regression slope per bar, relative"),
    _f(
        "donchian_position",
        T,
        "(close - lowest(low, 20)) / (highest(high, 20) - lowest(low, 20))",
        "where the close sits in the 20-bar high-low channel (0..1)",
    ),
    # momentum
    _f("rsi_factor", M, "normalize(rsi(14))", "RSI 14 scaled to -1..1 by its 100-bar range", D),
    _f("macd_momentum", M, "macd_hist(12, 26, 9)", "MACD histogram 12/26/9", D),
    _f("stoch_momentum", M, "stoch_k(14, 3)", "slow stochastic %K 14/3", D),
    _f("roc_5", M, "roc(close, 5)", "5-bar rate of change", D),
    _f("williams_r", M, "williams_r(14)", "Williams %R 14", D),
    _f("momentum_1d", M, "roc(close, 24)", "24-bar rate of change (one day of hourly bars)"),
    _f("momentum_1w", M, "roc(close, 168)", "168-bar rate of change (one week of hourly bars)"),
    _f("roc_10", M, "roc(close, 10)", "10-bar rate of change"),
    _f("rsi_fast", M, "normalize(rsi(7))", "RSI 7 scaled to -1..1 by its 100-bar range"),
    _f("cci_factor", M, "cci(20) / 100", "CCI 20 in hundreds"),
    _f("macd_norm", M, "macd(12, 26, 9) / close", "MACD line relative to price"),
    # volatility
    _f("realized_vol", V, "std(returns, 20)", "standard deviation of 20 returns", D),
    _f("atr_factor", V, "atr(14) / close", "ATR 14 relative to price", D),
    _f("bb_width", V, "bbwidth(20, 2)", "Bollinger band width 20/2", D),
    _f("vol_regime", V, "vol(20) / vol(60)", "short over long realised volatility", D),
    _f("garman_klass", V, "gk_vol(20)", "Garman-Klass volatility over 20 bars", D),
    _f("parkinson_vol", V, "parkinson(20)", "Parkinson high-low volatility over 20 bars"),
    _f("vol_of_vol", V, "std(vol(20), 20)", "variability of the 20-bar volatility"),
    _f("range_pct", V, "(high - low) / close", "the bar's range relative to its close"),
    _f("atr_ratio", V, "atr(14) / atr(50)", "short over long ATR"),
    _f("bb_position", V, "bb_pos(20, 2)", "position inside the Bollinger bands (%B)"),
    _f(
        "downside_vol",
        V,
        "sqrt(sma(min(returns, 0) * min(returns, 0), 20))",
        "root mean square of the negative returns over 20 bars",
    ),
    # volume
    _f("volume_change", VO, "roc(volume, 1)", "volume over the previous bar's, minus one"),
    _f("volume_ratio", VO, "volume / sma(volume, 20)", "volume over its 20-bar average"),
    _f("volume_zscore", VO, "zscore(volume, 50)", "volume's z-score over 50 bars"),
    _f("obv_slope", VO, "slope(obv(), 20) / sma(volume, 20)", "OBV trend in average volumes"),
    _f("mfi_factor", VO, "mfi(14) / 100", "money flow index 14, 0..1"),
    _f("cmf_factor", VO, "cmf(20)", "Chaikin money flow 20"),
    _f("vwap_distance", VO, "close / vwap(20) - 1", "distance from the 20-bar VWAP"),
    _f(
        "volume_trend", VO, "sma(volume, 5) / sma(volume, 50) - 1", "short over long average volume"
    ),
    _f("price_volume_corr", VO, "corr(returns, volume, 20)", "correlation of returns and volume"),
    _f("dollar_volume", VO, "log(close * volume)", "log of the traded value"),
    _f(
        "volume_momentum",
        VO,
        "roc(close, 10) * (volume / sma(volume, 20))",
        "10-bar momentum weighted by relative volume (the docs' custom-factor example)",
    ),
    # statistical
    _f("return_skew", S, "skew(returns, 50)", "skewness of 50 returns"),
    _f("return_kurt", S, "kurt(returns, 50)", "excess kurtosis of 50 returns"),
    _f("price_zscore", S, "zscore(close, 20)", "the close's z-score over 20 bars"),
    _f("return_zscore", S, "zscore(returns, 20)", "the last return's z-score over 20 bars"),
    _f("autocorr_1", S, "corr(returns, lag(returns, 1), 50)", "lag-1 autocorrelation of returns"),
    _f("mean_reversion", S, "-(close / sma(close, 20) - 1)", "minus the distance from the SMA 20"),
    _f("percentile_rank", S, "rank(close, 50)", "the close's percentile in 50 bars"),
    _f("hurst_short", S, "hurst(close, 50)", "Hurst exponent over 50 bars"),
    _f("rolling_sharpe", S, "sma(returns, 20) / std(returns, 20)", "mean over std of 20 returns"),
    _f("drawdown_20", S, "close / highest(close, 20) - 1", "distance from the 20-bar high"),
    # composite
    _f(
        "momentum_quality",
        C,
        "roc(close, 20) / std(returns, 20)",
        "momentum per unit of volatility",
    ),
    _f(
        "trend_volume",
        C,
        "sign(ema(20) - ema(50)) * volume / sma(volume, 20)",
        "trend side times relative volume",
    ),
    _f("vol_adjusted_momentum", C, "roc(close, 10) / (atr(14) / close)", "momentum in ATRs"),
    _f(
        "breakout_score",
        C,
        "close / lag(highest(high, 20), 1) - 1",
        "close over the previous 20-bar high",
    ),
    _f(
        "trend_rsi",
        C,
        "sign(close - ema(200)) * normalize(rsi(14))",
        "RSI factor in the trend's direction",
    ),
    _f(
        "efficiency_ratio",
        C,
        "abs(delta(close, 20)) / sum(abs(delta(close, 1)), 20)",
        "Kaufman efficiency ratio over 20 bars",
    ),
    _f(
        "stoch_rsi",
        C,
        "(rsi(14) - lowest(rsi(14), 14)) / (highest(rsi(14), 14) - lowest(rsi(14), 14))",
        "stochastic of the RSI 14 (0..1)",
    ),
    _f(
        "volume_price_trend",
        C,
        "sum(returns * volume, 20) / sum(volume, 20)",
        "volume-weighted return",
    ),
    _f(
        "macd_rsi",
        C,
        "normalize(macd_hist(12, 26, 9)) + normalize(rsi(14))",
        "MACD and RSI agreement",
    ),
    _f("squeeze", C, "bbwidth(20, 2) / (atr(14) / close)", "band width in ATRs (low: a squeeze)"),
)

BY_NAME: dict[str, BuiltinFactor] = {factor.name: factor for factor in BUILTINS}


@cache
def builtin_tree(name: str) -> Node:
    return parse(BY_NAME[name].expression)


def resolve_builtin(name: str) -> Node | None:
    """A built-in factor's tree by name, for custom expressions that use it."""
    return builtin_tree(name) if name in BY_NAME else None


def builtin_trees() -> dict[str, Node]:
    return {factor.name: builtin_tree(factor.name) for factor in BUILTINS}
