"""The gauges read when ``/metrics`` is scraped: cheaper than keeping them current on
every change, and exact at the moment they are read."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from hyperoru.jobs.models import Job, JobStatus
from hyperoru.metrics.instruments import AppMetrics
from hyperoru.realtime.hub import Hub

_WAITING = (JobStatus.QUEUED, JobStatus.RUNNING)


async def sample(
    metrics: AppMetrics,
    *,
    hub: Hub,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    metrics.websocket_sockets.set(hub.count())
    pool = engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        metrics.db_pool.labels("in_use").set(pool.checkedout())
        metrics.db_pool.labels("idle").set(pool.checkedin())
    async with sessions() as session:
        rows = await session.execute(
            select(Job.status, func.count()).where(Job.status.in_(_WAITING)).group_by(Job.status)
        )
        counts = {str(status): int(count) for status, count in rows.all()}
    for status in _WAITING:
        metrics.jobs.labels(status.value).set(counts.get(status.value, 0))
