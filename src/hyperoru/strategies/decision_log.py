"""Reading the decision log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.paging import ListWindow
from hyperoru.strategies.records import DecisionRecord


async def list_decisions(
    session: AsyncSession, *, account_id: int, window: ListWindow
) -> list[DecisionRecord]:
    """One trader's decisions, newest first."""
    rows = await session.scalars(
        select(DecisionRecord)
        .where(DecisionRecord.account_id == account_id)
        .order_by(DecisionRecord.id.desc())
        .limit(window.limit)
        .offset(window.offset)
    )
    return list(rows)


async def load_decision(session: AsyncSession, *, decision_id: int) -> DecisionRecord | None:
    """One decision by id, whoever made it: callers check its ``user_id``."""
    return await session.get(DecisionRecord, decision_id)
