"""Factors of one symbol from plain columns or candles: what signals
(``indicator: "factor:<name>"``), programs (``data.get_factor``) and prompts
(``{factor_values}``) read. Built-ins by name; a user's custom factors by their
expression, which the caller looked up among that user's own (``factors/custom.py``), so a
name never reaches another user's factor. Pure; trees are parsed once per process."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from hyperoru.factors.bars import Bars, Matrix, bars_from_candles
from hyperoru.factors.catalogue import BUILTINS, BY_NAME, builtin_tree, resolve_builtin
from hyperoru.factors.evaluate import Evaluator, evaluate
from hyperoru.factors.language import FactorSyntaxError, Node, lookback, parse
from hyperoru.market.providers.base import Candle

PREFIX = "factor:"

# name → expression of one user's custom factors.
CustomFactors = Mapping[str, str]


def is_builtin(name: str) -> bool:
    return name in BY_NAME


def expression_of(name: str, custom: CustomFactors | None = None) -> str | None:
    """The expression behind ``name``: a built-in's, else the user's own factor's (custom
    names never shadow a built-in: ``factors/service.py`` refuses them)."""
    if name in BY_NAME:
        return BY_NAME[name].expression
    return (custom or {}).get(name)


@lru_cache(maxsize=4096)
def _tree(expression: str) -> Node | None:
    try:
        return parse(expression, resolve_builtin)
    except FactorSyntaxError:
        return None


def tree_of(expression: str) -> Node | None:
    """The parsed expression; None for one the language no longer accepts (stored before
    a grammar change: it yields no value rather than an error in a running cycle)."""
    return _tree(expression)


def warmup_of(expression: str) -> int:
    tree = tree_of(expression)
    return 0 if tree is None else lookback(tree)


def warmup_bars(name: str) -> int:
    return lookback(builtin_tree(name))


def _line(tree: Node | None, columns: Sequence[np.ndarray]) -> np.ndarray:
    matrices: list[Matrix] = [np.asarray(c, dtype=np.float64).reshape(1, -1) for c in columns]
    if tree is None:
        return np.full(matrices[3].shape[1], np.nan)
    line: np.ndarray = np.array(evaluate(tree, Bars(("_",), (), *matrices))[0])
    return line


def expression_line(
    expression: str,
    *,
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> np.ndarray:
    """The expression's value at every bar (NaN where undefined), oldest first."""
    return _line(tree_of(expression), (open, high, low, close, volume))


def builtin_line(
    name: str,
    *,
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> np.ndarray:
    """The built-in factor's value at every bar (NaN where undefined), oldest first."""
    return _line(builtin_tree(name), (open, high, low, close, volume))


def latest_from_candles(
    candles: Sequence[Candle],
    names: Sequence[str] | None = None,
    custom: CustomFactors | None = None,
) -> dict[str, float | None]:
    """Each factor's value at the last of ``candles`` (None where undefined or without
    enough history): the built-ins ``names`` lists (every built-in by default), then
    every factor of ``custom``."""
    wanted = [n for n in (names if names is not None else BY_NAME) if n in BY_NAME]
    trees: dict[str, Node | None] = {name: builtin_tree(name) for name in wanted}
    for name, expression in (custom or {}).items():
        if name not in BY_NAME:
            trees[name] = tree_of(expression)
    if not candles:
        return dict.fromkeys(trees)
    run = Evaluator(bars_from_candles([("_", candles)]))
    out: dict[str, float | None] = {}
    for name, tree in trees.items():
        value = math.nan if tree is None else float(run(tree)[0, -1])
        out[name] = value if math.isfinite(value) else None
    return out


def documented_names() -> list[str]:
    """The built-ins the public documentation names: what the ``{factor_values}`` prompt
    variable shows (with the trader owner's custom factors after them)."""
    return [factor.name for factor in BUILTINS if factor.documented]
