"""Loading one row that must belong to the caller: the same answers on every route."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.api_types import MAX_ID
from hyperoru.errors import forbidden, not_found

Row = TypeVar("Row")


async def load_owned_row(
    session: AsyncSession, model: type[Row], resource: str, *, owner_id: int, row_id: int
) -> Row:
    """The row ``row_id`` of ``model`` (a table with ``user_id``): 404
    ``<RESOURCE>_NOT_FOUND`` when missing (or out of id range), 403 FORBIDDEN when it
    belongs to another user."""
    if not 1 <= row_id <= MAX_ID:
        raise not_found(resource)
    row = await session.get(model, row_id)
    if row is None:
        raise not_found(resource)
    owner: Any = row
    if owner.user_id != owner_id:
        raise forbidden(f"This {resource.replace('_', ' ')} belongs to another user")
    return row
