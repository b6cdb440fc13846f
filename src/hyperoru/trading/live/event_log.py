"""Reconciliation events: each difference between our records and the venue's, kept for
the owner (``GET /api/account/{id}/reconciliation``), never a silent overwrite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.trading.live.models import ReconciliationEvent, ReconciliationKind


async def record_event(
    session: AsyncSession,
    *,
    account_id: int,
    user_id: int,
    kind: ReconciliationKind,
    message: str,
    now: datetime,
    order_id: int | None = None,
    details: dict[str, Any] | None = None,
    once_per: str | None = None,
) -> ReconciliationEvent | None:
    """Add an event (the caller commits). ``once_per`` names a details key: an event of
    this kind with the same value there is not recorded again (a scheduled reconciliation
    finds a standing difference each time; the owner is told once)."""
    details = details or {}
    if once_per is not None:
        earlier = await session.scalars(
            select(ReconciliationEvent.details).where(
                ReconciliationEvent.account_id == account_id, ReconciliationEvent.kind == kind
            )
        )
        if any(d.get(once_per) == details.get(once_per) for d in earlier):
            return None
    event = ReconciliationEvent(
        account_id=account_id,
        user_id=user_id,
        kind=kind,
        order_id=order_id,
        message=message[:500],
        details=details,
        created_at=now,
    )
    session.add(event)
    return event


async def list_events(
    session: AsyncSession, *, account_id: int, limit: int, offset: int
) -> list[ReconciliationEvent]:
    """Newest first."""
    rows = await session.scalars(
        select(ReconciliationEvent)
        .where(ReconciliationEvent.account_id == account_id)
        .order_by(ReconciliationEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all())
