"""Indicator and regime series for a whole replay, computed once and read per bar.

The maths is ``hyperoru.market.indicators`` / ``hyperoru.market.regime`` (numpy), run
over every bar of the replay; the value at bar ``i`` depends only on bars ``0..i`` (every
indicator there is causal), so reading it at ``i`` never looks ahead. Needs numpy, so it
is imported only when a program first asks for an indicator or a regime.

Which names and periods a program may ask for is ``hyperoru.market.indicator_catalog``
(checked before a request gets here); ``COMPUTE`` is how each name is computed, in
backtests and in live program cycles alike (``programs/program_inputs.py`` reads it too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hyperoru.market import indicators
from hyperoru.market.regime import REGIMES, regime_codes, regime_metrics

Series = np.ndarray
Compute = Callable[[Series, Series, Series, int], Series]
# name → how to compute its series from (close, high, low, period).
COMPUTE: dict[str, Compute] = {
    "rsi": lambda c, h, lo, p: indicators.rsi(c, p),
    "ema": lambda c, h, lo, p: indicators.ema(c, p),
    "sma": lambda c, h, lo, p: indicators.sma(c, p),
    "atr": lambda c, h, lo, p: indicators.atr(h, lo, c, p),
    "bb_upper": lambda c, h, lo, p: indicators.bollinger_bands(c, p).upper,
    "bb_middle": lambda c, h, lo, p: indicators.bollinger_bands(c, p).middle,
    "bb_lower": lambda c, h, lo, p: indicators.bollinger_bands(c, p).lower,
    "price_change_pct": lambda c, h, lo, p: indicators.price_change_pct(c, p),
}
MACD_ATTRIBUTES = {"macd": "macd", "macd_signal": "signal", "macd_hist": "histogram"}


def compute_series(
    name: str, period: int | None, close: Series, high: Series, low: Series
) -> Series:
    """The series of a resolved request (``indicator_catalog.resolve``): the one place a
    name becomes a computation."""
    if name in MACD_ATTRIBUTES:
        return getattr(indicators.macd(close), MACD_ATTRIBUTES[name])
    if period is None:
        raise ValueError(f"{name} needs a period")
    return COMPUTE[name](close, high, low, period)


_REGIME_FIELDS = (
    "efficiency",
    "change_pct",
    "atr_pct",
    "volatility_ratio",
    "bollinger_width_pct",
)


def _floats(column: list[Any]) -> Series:
    return np.array(column, dtype=np.float64)


def as_values(series: Series) -> list[float | None]:
    """The series as a list, None where it is NaN (the warm-up): numpy finds the NaNs,
    so a year of minutes is not walked value by value in Python."""
    values: list[float | None] = series.tolist()
    for k in np.flatnonzero(np.isnan(series)).tolist():
        values[k] = None
    return values


class SeriesBook:
    """Per symbol: the candles' close/high/low columns; per request: a cached series."""

    def __init__(self, columns: Mapping[str, tuple[list[Any], list[Any], list[Any]]]) -> None:
        self._columns = columns
        self._arrays_of: dict[str, tuple[Series, Series, Series]] = {}
        self._series: dict[tuple[str, str, int | None], list[float | None] | None] = {}
        self._regimes: dict[str, tuple[list[int], dict[str, list[float]]]] = {}

    def _arrays(self, symbol: str) -> tuple[Series, Series, Series]:
        """Converted once per symbol: every indicator of a run reads the same columns."""
        if symbol not in self._arrays_of:
            close, high, low = self._columns[symbol]
            # Bars before a symbol's first candle are None: NaN is the indicators' warm-up.
            self._arrays_of[symbol] = (_floats(close), _floats(high), _floats(low))
        return self._arrays_of[symbol]

    def indicator(self, symbol: str, name: str, period: int | None) -> list[float | None] | None:
        """The whole series of a resolved ``(name, period)`` (``indicator_catalog.resolve``)
        for ``symbol``, computed once; None for a symbol without candles."""
        key = (symbol, name, period)
        if key not in self._series:
            if symbol not in self._columns:
                return None
            close, high, low = self._arrays(symbol)
            self._series[key] = as_values(compute_series(name, period, close, high, low))
        return self._series[key]

    def regime(self, symbol: str, i: int) -> dict[str, Any] | None:
        if symbol not in self._columns:
            return None
        if symbol not in self._regimes:
            close, high, low = self._arrays(symbol)
            metrics = regime_metrics(high, low, close)
            self._regimes[symbol] = (
                regime_codes(high, low, close).tolist(),
                {f: getattr(metrics, f).tolist() for f in _REGIME_FIELDS},
            )
        codes, fields = self._regimes[symbol]
        code = codes[i]
        if code < 0:
            return None
        return {"regime": REGIMES[code].value, **{f: fields[f][i] for f in _REGIME_FIELDS}}
