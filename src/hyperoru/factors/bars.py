"""The candles a factor is evaluated on: one row per symbol, one column per bar.

All symbols share one time axis (a symbol's missing bars are NaN), so every function
works on the whole universe at once along the last axis, and a cross-sectional IC is a
column-wise computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from hyperoru.market.providers.base import Candle

Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Bars:
    symbols: tuple[str, ...]
    times: tuple[datetime, ...]
    open: Matrix
    high: Matrix
    low: Matrix
    close: Matrix
    volume: Matrix
    _returns: list[Matrix] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        rows, columns = self.close.shape
        return (rows, columns)

    @property
    def returns(self) -> Matrix:
        """Close-to-close simple returns; NaN on the first bar and after a zero close."""
        if not self._returns:
            out = np.full(self.close.shape, np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[:, 1:] = self.close[:, 1:] / self.close[:, :-1] - 1.0
            out[~np.isfinite(out)] = np.nan
            self._returns.append(out)
        return self._returns[0]

    def column(self, name: str) -> Matrix:
        if name == "returns":
            return self.returns
        value: Matrix = getattr(self, name)
        return value

    def symbol_row(self, symbol: str) -> int:
        return self.symbols.index(symbol)


def bars_from_candles(series: Sequence[tuple[str, Sequence[Candle]]]) -> Bars:
    """Align each symbol's candles on the union of their open times."""
    times = sorted({candle.open_time for _symbol, candles in series for candle in candles})
    where = {time: index for index, time in enumerate(times)}
    shape = (len(series), len(times))
    columns: dict[str, Matrix] = {
        name: np.full(shape, np.nan) for name in ("open", "high", "low", "close", "volume")
    }
    for row, (_symbol, candles) in enumerate(series):
        index = np.fromiter(
            (where[c.open_time] for c in candles), dtype=np.int64, count=len(candles)
        )
        for name, column in columns.items():
            column[row, index] = np.fromiter(
                (float(getattr(c, name)) for c in candles), dtype=np.float64, count=len(candles)
            )
    return Bars(
        symbols=tuple(symbol for symbol, _ in series),
        times=tuple(times),
        **columns,
    )


def bars_from_arrays(
    symbols: Sequence[str],
    times: Sequence[datetime],
    *,
    open: Matrix,
    high: Matrix,
    low: Matrix,
    close: Matrix,
    volume: Matrix,
) -> Bars:
    arrays = [
        np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (open, high, low, close, volume)
    ]
    return Bars(tuple(symbols), tuple(times), *arrays)
