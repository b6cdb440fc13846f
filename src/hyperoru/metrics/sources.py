"""The gauges read when ``/metrics`` is scraped: cheaper than keeping them current on
every change, and exact at the moment they are read."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from hyperoru.jobs.models import Job, JobStatus
from hyperoru.metrics.instruments import AppMetrics
from hyperoru.notifications.models import OutboxMessage
from hyperoru.realtime.hub import Hub
from hyperoru.realtime.limits import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHENTICATED,
)

_WAITING = (JobStatus.QUEUED, JobStatus.RUNNING)
# Why the server closed a socket, named after its close code (realtime/limits.py).
DROP_REASONS = {
    CLOSE_TOO_SLOW: "too_slow",
    CLOSE_POLICY: "message_flood",
    CLOSE_TOO_BIG: "too_big",
    CLOSE_UNAUTHENTICATED: "session_ended",
    CLOSE_GOING_AWAY: "shutdown",
}


async def sample(
    metrics: AppMetrics,
    *,
    hub: Hub,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    metrics.websocket_sockets.set(hub.count())
    drops: dict[str, float] = {}
    for code, count in hub.drops.items():
        reason = DROP_REASONS.get(code, "other")
        drops[reason] = drops.get(reason, 0) + count
    metrics.websocket_drops.totals = drops
    pool = engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        metrics.db_pool.labels("in_use").set(pool.checkedout())
        metrics.db_pool.labels("idle").set(pool.checkedin())
    async with sessions() as session:
        rows = await session.execute(
            select(Job.status, func.count()).where(Job.status.in_(_WAITING)).group_by(Job.status)
        )
        counts = {str(status): int(count) for status, count in rows.all()}
        pending = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
    metrics.outbox_pending.set(pending or 0)
    for status in _WAITING:
        metrics.jobs.labels(status.value).set(counts.get(status.value, 0))
