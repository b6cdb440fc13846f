"""Job records: create, read with ownership, claim, lease, finish, recover.

Claiming is a compare-and-set on ``status``; on PostgreSQL the candidate row is also
locked with ``FOR UPDATE SKIP LOCKED`` so that workers in several processes pick
different jobs instead of queueing behind one row lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from hyperoru.db.dml import rows_changed
from hyperoru.errors import forbidden, not_found
from hyperoru.jobs.models import ACTIVE, Job, JobStatus
from hyperoru.logging_setup import request_id_var
from hyperoru.paging import ListWindow
from hyperoru.timeutils import utcnow

D = TypeVar("D")


async def create_job(
    session: AsyncSession,
    *,
    kind: str,
    owner_id: int,
    params: Mapping[str, Any],
    max_attempts: int,
) -> Job:
    now = utcnow()
    job = Job(
        kind=kind,
        owner_id=owner_id,
        status=JobStatus.QUEUED,
        progress_pct=0.0,
        params=dict(params),
        checkpoint={},
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        updated_at=now,
        request_id=request_id_var.get(),
    )
    session.add(job)
    await session.flush()
    return job


async def get_owned_job(session: AsyncSession, *, job_id: int, owner_id: int, kind: str) -> Job:
    """The job, if it is the caller's: another user's job is 403, a missing one 404."""
    job = await session.get(Job, job_id, populate_existing=True)
    if job is None or job.kind != kind:
        raise not_found("job")
    if job.owner_id != owner_id:
        raise forbidden()
    return job


async def job_with_details(
    session: AsyncSession,
    details: type[D],
    *,
    job_id: int,
    kind: str,
    load: Sequence[Any] = (),
) -> tuple[Job, D] | None:
    """The job and the row that holds its inputs and results (same id), fresh from the
    database, with the deferred columns in ``load``; None when either is missing.

    One statement, so one snapshot: handlers commit their results before the runner marks
    the job completed, and two separate reads could see the job completed but the results
    not yet there.
    """
    query = (
        select(Job, details)
        # Ignored below: every details model has the job's id as its `id` column, which
        # no bound on D can state for a mapped class (its instances see `int`, not a column).
        .join(details, details.id == Job.id)  # type: ignore[attr-defined]
        .where(Job.id == job_id, Job.kind == kind)
        .options(*(undefer(column) for column in load))
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def list_with_details(
    session: AsyncSession, details: type[D], *, owner_id: int, kind: str, window: ListWindow
) -> list[tuple[Job, D]]:
    """The owner's jobs of ``kind`` with their detail rows, newest first (deferred
    columns stay unloaded)."""
    rows = await session.execute(
        select(Job, details)
        # Ignored below: as in job_with_details.
        .join(details, details.id == Job.id)  # type: ignore[attr-defined]
        .where(Job.owner_id == owner_id, Job.kind == kind)
        .order_by(Job.id.desc())
        .limit(window.limit)
        .offset(window.offset)
    )
    return [(job, detail) for job, detail in rows]


@dataclass(frozen=True, slots=True)
class Lease:
    job_id: int
    worker_id: str
    seconds: float

    def expires(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def held(self) -> Any:
        return and_(
            Job.id == self.job_id,
            Job.status == JobStatus.RUNNING,
            Job.lease_owner == self.worker_id,
        )


async def claim_next(
    session: AsyncSession, *, kinds: Iterable[str], worker_id: str, lease_seconds: float
) -> Job | None:
    """Take the oldest queued job of ``kinds`` for ``worker_id`` (commits)."""
    kinds = list(kinds)
    if not kinds:
        return None
    candidates = (
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED, Job.kind.in_(kinds))
        .order_by(Job.id)
        .limit(5)
        .with_for_update(skip_locked=True)
    )
    for job_id in (await session.scalars(candidates)).all():
        now = utcnow()
        taken = await rows_changed(
            session,
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                lease_owner=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
                updated_at=now,
            ),
        )
        if taken == 1:
            await session.commit()
            return await session.get(Job, job_id, populate_existing=True)
    await session.commit()
    return None


async def renew(
    session: AsyncSession,
    lease: Lease,
    *,
    progress_pct: float | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> bool:
    """Extend the lease (and record progress). False when the lease was lost (commits)."""
    now = utcnow()
    values: dict[str, Any] = {"lease_expires_at": lease.expires(now), "updated_at": now}
    if progress_pct is not None:
        values["progress_pct"] = max(0.0, min(100.0, progress_pct))
    if checkpoint is not None:
        values["checkpoint"] = dict(checkpoint)
    done = await rows_changed(session, update(Job).where(lease.held()).values(**values))
    await session.commit()
    return done == 1


async def complete(session: AsyncSession, lease: Lease, *, result: Mapping[str, Any]) -> bool:
    now = utcnow()
    done = await rows_changed(
        session,
        update(Job)
        .where(lease.held())
        .values(
            status=JobStatus.COMPLETED,
            progress_pct=100.0,
            result=dict(result),
            error=None,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        ),
    )
    await session.commit()
    return done == 1


async def fail(session: AsyncSession, lease: Lease, *, error: str, retry: bool) -> None:
    """Record a failure: back to the queue while attempts remain (if ``retry``)."""
    now = utcnow()
    job = await session.get(Job, lease.job_id, populate_existing=True)
    if job is None or job.lease_owner != lease.worker_id or job.status != JobStatus.RUNNING:
        await session.commit()
        return
    again = retry and job.attempts < job.max_attempts
    await session.execute(
        update(Job)
        .where(lease.held())
        .values(
            status=JobStatus.QUEUED if again else JobStatus.FAILED,
            error=error[:2000],
            lease_owner=None,
            lease_expires_at=None,
            finished_at=None if again else now,
            updated_at=now,
        )
    )
    await session.commit()


async def release(session: AsyncSession, lease: Lease) -> None:
    """Give a job back on a clean shutdown; the interruption does not count as an attempt."""
    await session.execute(
        update(Job)
        .where(lease.held())
        .values(
            status=JobStatus.QUEUED,
            attempts=Job.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=utcnow(),
        )
    )
    await session.commit()


async def cancel(session: AsyncSession, *, job_id: int) -> bool:
    """Mark a queued or running job cancelled (does not commit). False when it had finished.

    Its lease goes with it, so the worker running it (in any process) loses the job at its
    next heartbeat or progress report and stops; ``JobRunner.cancel`` stops it at once when
    it runs in this process.
    """
    now = utcnow()
    done = await rows_changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(
            status=JobStatus.CANCELLED,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        ),
    )
    return done == 1


async def recover_expired(session: AsyncSession) -> tuple[int, int]:
    """Jobs whose worker vanished (lease ran out): requeue, or fail when out of attempts.

    Returns (requeued, failed). Commits.
    """
    expired = and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < utcnow())
    return await _recover(session, expired)


async def hand_back(session: AsyncSession, *, job_id: int, lease_owner: str) -> bool:
    """A job whose worker is known to be dead (its sandbox process outlived it) goes back
    to the queue now instead of when the lease runs out, or fails when out of attempts.
    Only if that worker still holds it: a job taken over or cancelled meanwhile is left
    alone. True when it was handed back or failed. Commits."""
    held = and_(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.lease_owner == lease_owner)
    return sum(await _recover(session, held)) == 1


async def _recover(session: AsyncSession, interrupted: ColumnElement[bool]) -> tuple[int, int]:
    # The interrupted attempt counts (unlike ``release``): a job that kills its worker
    # every time must not be retried for ever.
    now = utcnow()
    requeued = await rows_changed(
        session,
        update(Job)
        .where(interrupted, Job.attempts < Job.max_attempts)
        .values(status=JobStatus.QUEUED, lease_owner=None, lease_expires_at=None, updated_at=now),
    )
    failed = await rows_changed(
        session,
        update(Job)
        .where(interrupted, Job.attempts >= Job.max_attempts)
        .values(
            status=JobStatus.FAILED,
            error="interrupted: the worker stopped and no attempts are left",
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        ),
    )
    await session.commit()
    return requeued, failed
