"""Per-user caps on stored resources (traders, prompts, programs, signals): a bounded
number of rows per user keeps every list, tick and export bounded too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.errors import ApiError


async def ensure_room(
    session: AsyncSession,
    model: Any,
    *owned: ColumnElement[bool],
    limit: int,
    code: str,
    what: str,
) -> None:
    """422 ``code`` when the rows of ``model`` matching ``owned`` already number ``limit``."""
    count = await session.scalar(select(func.count()).select_from(model).where(*owned))
    if (count or 0) >= limit:
        raise ApiError(422, code, f"A user can have at most {limit} {what}; delete one first")
