"""Running UPDATE and DELETE statements whose matched-row count decides what happens next."""

from __future__ import annotations

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable


async def rows_changed(session: AsyncSession, statement: Executable) -> int:
    """Execute an UPDATE or DELETE and return how many rows it matched.

    ``AsyncSession.execute`` is typed as returning ``Result``; for DML it is a
    ``CursorResult``, the only kind that knows its ``rowcount``.
    """
    result = await session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} has no rowcount: not an UPDATE or DELETE")
    return result.rowcount
