"""``limit``/``offset`` and ``page``/``per_page`` (contract §1) resolved to one window."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from hyperoru.api_types import MAX_ID
from hyperoru.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ListWindow


async def list_window(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    # Bounded like ids: an offset past any table size is still a valid empty page, while an
    # unbounded integer would overflow the database driver.
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    page: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    per_page: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
) -> ListWindow:
    """``page``/``per_page`` win when either is sent; ``per_page`` defaults to ``limit``."""
    if page is None and per_page is None:
        return ListWindow(limit=limit, offset=offset)
    size = per_page or limit
    return ListWindow(limit=size, offset=min(((page or 1) - 1) * size, MAX_ID))


ListWindowQuery = Annotated[ListWindow, Depends(list_window)]
