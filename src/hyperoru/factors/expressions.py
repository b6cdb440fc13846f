"""A user's expression compiled against the catalogue, with the contract's 422 on a
mistake (``INVALID_FACTOR_EXPRESSION``, the position in ``details``)."""

from __future__ import annotations

from hyperoru.errors import ApiError
from hyperoru.factors.catalogue import resolve_builtin
from hyperoru.factors.language import FactorSyntaxError, Node, parse


def invalid_expression(error: FactorSyntaxError, field: str = "expression") -> ApiError:
    return ApiError(
        422,
        "INVALID_FACTOR_EXPRESSION",
        f"Invalid factor expression: {error.reason} at position {error.position}",
        details={
            "field": field,
            "position": error.position,
            "reason": error.reason,
            "fields": [{"field": field, "message": f"{error.reason} at position {error.position}"}],
        },
    )


def compile_expression(text: str, field: str = "expression") -> Node:
    """The tree of a custom expression (built-in factor names may be used in it)."""
    try:
        return parse(text, resolve_builtin)
    except FactorSyntaxError as error:
        raise invalid_expression(error, field) from error
