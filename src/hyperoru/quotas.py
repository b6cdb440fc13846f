"""Per-user caps: on stored resources (traders, prompts, programs, signals), so that every
list, tick and export stays bounded, and on active jobs (backtests), so that one user
cannot fill the workers.

A cap is a count followed by an insert, so two requests of one user running side by side
could both count below the cap and both insert. Each check therefore first holds the
user's row for the rest of the transaction (``hold_owner``): the second request waits
there until the first commits, then counts what the first added.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.auth.models import User
from hyperoru.errors import ApiError
from hyperoru.jobs.models import ACTIVE, Job


async def hold_owner(session: AsyncSession, owner_id: int) -> None:
    """Serialise this user's capped inserts until the transaction ends.

    A no-op write rather than ``SELECT … FOR UPDATE``: PostgreSQL takes the row lock
    either way, and SQLite (which has no row locks and reads outside a transaction) takes
    its database write lock, so the count that follows cannot be stale on either.
    """
    await session.execute(update(User).where(User.id == owner_id).values(id=User.id))


async def _held_count(
    session: AsyncSession, owner_id: int, model: Any, *where: ColumnElement[bool]
) -> int:
    await hold_owner(session, owner_id)
    return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def ensure_room(
    session: AsyncSession,
    model: Any,
    *owned: ColumnElement[bool],
    owner_id: int,
    limit: int,
    code: str,
    what: str,
) -> None:
    """422 ``code`` when the rows of ``model`` matching ``owned`` already number ``limit``."""
    if await _held_count(session, owner_id, model, *owned) >= limit:
        raise ApiError(422, code, f"A user can have at most {limit} {what}; delete one first")


async def ensure_job_room(
    session: AsyncSession, *, owner_id: int, kind: str, limit: int, code: str, what: str
) -> None:
    """429 ``code`` (with ``details: {limit, active}``) when the user already has ``limit``
    queued or running jobs of ``kind``: 429, as the same request succeeds once one ends."""
    active = await _held_count(
        session, owner_id, Job, Job.owner_id == owner_id, Job.kind == kind, Job.status.in_(ACTIVE)
    )
    if active >= limit:
        raise ApiError(
            429,
            code,
            f"At most {limit} {what} may be queued or running at once; wait for one to "
            "finish or cancel one",
            details={"limit": limit, "active": active},
        )
