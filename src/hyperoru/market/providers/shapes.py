"""Helpers for parsing venue JSON: any shape surprise becomes an ``UpstreamError``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

from hyperoru.market.providers.base import UpstreamError

P = ParamSpec("P")
R = TypeVar("R")


def parses(venue: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a parser so that a missing key or a wrong type reads as a bad answer."""

    def wrap(parser: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(parser)
        def parse(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return parser(*args, **kwargs)
            except UpstreamError:
                raise
            except (KeyError, IndexError, TypeError, ValueError, InvalidOperation) as exc:
                raise UpstreamError(
                    f"{venue} answered in an unexpected shape ({parser.__name__})"
                ) from exc

        return parse

    return wrap


def decimal(value: Any) -> Decimal:
    """Venue numbers arrive as strings (or ints); binary floats are refused on purpose."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"expected a decimal string, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError("non-finite number")
    return result


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value
