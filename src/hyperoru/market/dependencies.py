"""Route dependencies of the market domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from hyperoru.market.runtime import MarketRuntime


async def get_market(request: Request) -> MarketRuntime:
    return request.app.state.services.market


Market = Annotated[MarketRuntime, Depends(get_market)]


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


async def paging(
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    # Bounded so that no database integer overflows (SQLite and PostgreSQL are 64-bit).
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    per_page: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> Page:
    """``limit``/``offset`` or ``page``/``per_page`` (contract §1), resolved to one pair."""
    size = limit or per_page or 100
    return Page(size, offset if page is None else (page - 1) * size)


Paging = Annotated[Page, Depends(paging)]
