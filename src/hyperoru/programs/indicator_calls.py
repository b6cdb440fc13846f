"""The ``data.get_indicator`` calls ``/api/programs/validate`` can judge without running
the program: those whose name and period are written out as literals. A request the
catalog refuses is reported with its line, in the words the run would raise."""

from __future__ import annotations

import ast

from hyperoru.market.indicator_catalog import IndicatorRequestError, resolve
from hyperoru.programs.sandbox.policy import PolicyError

_ABSENT = object()


def _argument(call: ast.Call, position: int, keyword: str) -> object:
    """The literal value of an argument, ``_ABSENT`` when it is not given, or its node
    when it is an expression only a run can evaluate."""
    if len(call.args) > position:
        node: ast.expr | None = call.args[position]
    else:
        node = next((k.value for k in call.keywords if k.arg == keyword), None)
        if node is None:
            return _ABSENT
    return node.value if isinstance(node, ast.Constant) else node


def indicator_call_errors(tree: ast.Module) -> list[PolicyError]:
    errors = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get_indicator"
        ):
            continue
        name = _argument(node, 1, "name")
        period = _argument(node, 2, "period")
        if isinstance(name, ast.AST) or name is _ABSENT or isinstance(period, ast.AST):
            continue  # only a run knows
        try:
            resolve(name, None if period is _ABSENT else period)
        except IndicatorRequestError as exc:
            errors.append(PolicyError(node.lineno, str(exc)))
    return errors
