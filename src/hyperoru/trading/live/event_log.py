"""Reconciliation events: each difference between our records and the venue's, kept for
the owner (``GET /api/account/{id}/reconciliation``), never a silent overwrite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.timeutils import isoformat_z
from hyperoru.trading.live.models import ReconciliationEvent, ReconciliationKind

# Amounts in an event's details, stored as exact text, sent as numbers like every amount.
AMOUNTS = frozenset({"quantity", "price", "filled_quantity", "loss", "venue", "ledger"})


def public_details(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: float(value) if key in AMOUNTS and isinstance(value, str) else value
        for key, value in details.items()
    }


def event_json(event: ReconciliationEvent) -> dict[str, Any]:
    """An event as ``GET /api/account/{id}/reconciliation`` shows it (the /ws push's data)."""
    return {
        "id": event.id,
        "account_id": event.account_id,
        "kind": event.kind,
        "order_id": event.order_id,
        "message": event.message,
        "details": public_details(event.details),
        "created_at": isoformat_z(event.created_at),
    }


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
