"""A parsed factor evaluated on bars: the tree walked once, each distinct subtree computed
once (a catalogue run shares ``ema(close, 20)`` between every factor that uses it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from hyperoru.factors.bars import Bars, Matrix
from hyperoru.factors.functions import FUNCTIONS, clean
from hyperoru.factors.language import Binary, Call, Negate, Node, Number, Series


class Evaluator:
    """Evaluates trees on one set of bars, remembering every subtree's values."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars
        self._memo: dict[Node, Matrix] = {}

    def __call__(self, node: Node) -> Matrix:
        """The factor's values, shape (symbols, bars); NaN where undefined. The result is
        shared with the memo: callers must not write into it."""
        known = self._memo.get(node)
        if known is None:
            known = self._compute(node)
            known.setflags(write=False)
            self._memo[node] = known
        return known

    def _compute(self, node: Node) -> Matrix:
        shape = self.bars.shape
        with np.errstate(all="ignore"):
            match node:
                case Number(value):
                    return np.full(shape, value)
                case Series(name):
                    return np.array(self.bars.column(name), dtype=np.float64)
                case Negate(operand):
                    return -self(operand)
                case Binary(op, left, right):
                    a, b = self(left), self(right)
                    if op == "+":
                        out = a + b
                    elif op == "-":
                        out = a - b
                    elif op == "*":
                        out = a * b
                    else:
                        out = np.divide(a, b)
                    return clean(np.asarray(out, dtype=np.float64))
                case Call(function, inputs, params):
                    spec = FUNCTIONS[function]
                    values = spec.compute(self.bars, [self(child) for child in inputs], params)
                    return clean(np.array(values, dtype=np.float64))
        raise AssertionError(node)


def evaluate(node: Node, bars: Bars) -> Matrix:
    return Evaluator(bars)(node)


def evaluate_many(trees: Mapping[str, Node], bars: Bars) -> dict[str, Matrix]:
    run = Evaluator(bars)
    return {name: run(tree) for name, tree in trees.items()}


def as_json(values: Iterable[float]) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in values]
