"""``limit``/``offset`` and ``page``/``per_page`` (contract §1) resolved to one window."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import Depends, Query
from pydantic import BaseModel

from hyperoru.api_types import MAX_ID
from hyperoru.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ListWindow

# The bounds, once for the declared parameters (``list_window``) and for the routes that
# read their query themselves (``ListWindowParams``, ``http.query_model``).
PageSize = Annotated[int, Ge(1), Le(MAX_PAGE_SIZE)]
# Bounded like ids: an offset past any table size is still a valid empty page, while an
# unbounded integer would overflow the database driver.
Offset = Annotated[int, Ge(0), Le(MAX_ID)]
PageNumber = Annotated[int, Ge(1), Le(MAX_ID)]


def window_of(limit: int, offset: int, page: int | None, per_page: int | None) -> ListWindow:
    """``page``/``per_page`` win when either is sent; ``per_page`` defaults to ``limit``."""
    if page is None and per_page is None:
        return ListWindow(limit=limit, offset=offset)
    size = per_page or limit
    return ListWindow(limit=size, offset=min(((page or 1) - 1) * size, MAX_ID))


async def list_window(
    limit: Annotated[PageSize, Query()] = DEFAULT_PAGE_SIZE,
    offset: Annotated[Offset, Query()] = 0,
    page: Annotated[PageNumber | None, Query()] = None,
    per_page: Annotated[PageSize | None, Query()] = None,
) -> ListWindow:
    return window_of(limit, offset, page, per_page)


class ListWindowParams(BaseModel):
    """The same four parameters as ``list_window``, for ``http.query_model.parse_query``."""

    limit: PageSize = DEFAULT_PAGE_SIZE
    offset: Offset = 0
    page: PageNumber | None = None
    per_page: PageSize | None = None

    def window(self) -> ListWindow:
        return window_of(self.limit, self.offset, self.page, self.per_page)


ListWindowQuery = Annotated[ListWindow, Depends(list_window)]
