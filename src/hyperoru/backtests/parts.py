"""The long parts of a backtest answer (equity curve, trades, logs, snapshots): which ones
a read includes (``?include=``), and one page of a stored list.

A status poll wants the summary and progress, a few hundred bytes; the curve and the
trade list of a finished backtest are tens of kilobytes. So the parts are named, an
answer carries the ones asked for, and each list also has its own paged route.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Sequence
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Query, Response
from pydantic import BaseModel

from hyperoru.errors import validation_error
from hyperoru.paging import ListWindow

T = TypeVar("T")


class Part(StrEnum):
    TRADES = "trades"
    EQUITY = "equity"
    LOGS = "logs"
    DECISIONS = "decisions"


_VALUES = {part.value: part for part in Part}
# Other spellings clients send for a part: the field's own name.
_ALIASES = {"equity_curve": Part.EQUITY}
# ``include=none`` (or an empty ``include=``) asks for the summary alone.
_NOTHING = "none"

IncludeDependency = Callable[..., Coroutine[Any, Any, frozenset[Part]]]


def parse_include(text: str, allowed: frozenset[Part]) -> frozenset[Part]:
    """``"trades,equity"`` → those parts. Raises 400 VALIDATION_ERROR naming the unknown
    ones, so that a typo is not silently a light answer."""
    names = [name.strip().lower() for name in text.split(",")]
    names = [name for name in names if name and name != _NOTHING]
    chosen: set[Part] = set()
    unknown: list[str] = []
    for name in names:
        part = _ALIASES.get(name) or _VALUES.get(name)
        if part is None or part not in allowed:
            unknown.append(name)
        else:
            chosen.add(part)
    if unknown:
        choices = ", ".join(sorted(allowed)) + f", or {_NOTHING}"
        raise validation_error(
            f"include: unknown part(s) {', '.join(unknown)}; choose from {choices}", "include"
        )
    return frozenset(chosen)


IncludeText = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Comma-separated long parts to put in the answer (trades, equity, "
        "logs, decisions: those the route has), or none. The route says its default.",
    ),
]


def include_query(allowed: frozenset[Part], default: frozenset[Part]) -> IncludeDependency:
    """A dependency reading ``?include=`` for a route whose answer can carry ``allowed``;
    without the parameter the answer carries ``default``."""

    async def include(include: IncludeText = None) -> frozenset[Part]:
        return default if include is None else parse_include(include, allowed)

    return include


def page_of(items: Sequence[T], window: ListWindow, response: Response) -> list[T]:
    """One page of a list stored whole (a finished backtest's trades or curve never
    change, so offsets stay valid between requests), with the whole list's length in
    ``X-Total-Count`` (the page itself stays a plain JSON array, as every list of the
    contract)."""
    response.headers["X-Total-Count"] = str(len(items))
    return list(items[window.offset : window.offset + window.limit])


def answer(model: BaseModel, *, omitted: Collection[str]) -> Response:
    """``model`` as JSON without the fields of the parts left out: absent, not null or
    empty, so that a light answer never reads as "no trades"."""
    body = model.model_dump_json(exclude=set(omitted))
    return Response(body, media_type="application/json")
