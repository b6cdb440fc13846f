"""Built-in factors of one symbol from plain columns or candles: what signals
(``indicator: "factor:<name>"``), programs (``data.get_factor``) and prompts
(``{factor_values}``) read. Pure; the catalogue's trees are parsed once per process."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hyperoru.factors.bars import Bars, Matrix, bars_from_candles
from hyperoru.factors.catalogue import BUILTINS, BY_NAME, builtin_tree
from hyperoru.factors.evaluate import Evaluator, evaluate
from hyperoru.factors.language import lookback
from hyperoru.market.providers.base import Candle

PREFIX = "factor:"


def is_builtin(name: str) -> bool:
    return name in BY_NAME


def warmup_bars(name: str) -> int:
    return lookback(builtin_tree(name))


def builtin_line(
    name: str,
    *,
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> np.ndarray:
    """The factor's value at every bar (NaN where undefined), oldest first."""
    columns: list[Matrix] = [
        np.asarray(c, dtype=np.float64).reshape(1, -1) for c in (open, high, low, close, volume)
    ]
    bars = Bars(("_",), (), *columns)
    line: np.ndarray = np.array(evaluate(builtin_tree(name), bars)[0])
    return line


def latest_from_candles(
    candles: Sequence[Candle], names: Sequence[str] | None = None
) -> dict[str, float | None]:
    """Each built-in factor's value at the last of ``candles`` (None where undefined or
    without enough history); every built-in unless ``names`` says which."""
    wanted = [n for n in (names if names is not None else BY_NAME) if n in BY_NAME]
    if not candles:
        return dict.fromkeys(wanted)
    bars = bars_from_candles([("_", candles)])
    run = Evaluator(bars)
    out: dict[str, float | None] = {}
    for name in wanted:
        value = float(run(builtin_tree(name))[0, -1])
        out[name] = value if math.isfinite(value) else None
    return out


def documented_names() -> list[str]:
    """The built-ins the public documentation names: what the ``{factor_values}`` prompt
    variable shows."""
    return [factor.name for factor in BUILTINS if factor.documented]
