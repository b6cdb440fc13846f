"""The in-process job runner: claims queued jobs from the table and runs their handlers.

Every server (or worker) process runs one. A running job holds a lease that a heartbeat
renews; when a process dies its leases run out, and any runner requeues those jobs
(or fails them once their attempts are spent). See docs/JOBS.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.jobs import service
from hyperoru.jobs.models import Job
from hyperoru.logging_setup import new_work_id, working_for
from hyperoru.process_identity import worker_identity
from hyperoru.stopping import cancel_and_wait

log = logging.getLogger("hyperoru.jobs")


class JobFailed(Exception):
    """Raised by a handler for a failure that retrying cannot fix (bad input, no data)."""


class LeaseLost(Exception):
    """The job was taken from this worker (its lease ran out); stop working on it."""


@dataclass(slots=True)
class JobContext:
    """What a handler sees: its parameters, where it stopped last time, and a way to
    record progress (which also proves it is alive)."""

    job_id: int
    params: Mapping[str, Any]
    checkpoint: dict[str, Any]
    attempt: int
    sessionmaker: async_sessionmaker[AsyncSession]
    _lease: service.Lease = field(repr=False)

    def sandbox_tag(self) -> dict[str, Any]:
        """What a sandbox run of this job records, so that a server started after this
        one died can hand the job back at once (``service.hand_back``)."""
        return {"job_id": self.job_id, "lease_owner": self._lease.worker_id}

    async def progress(self, pct: float, checkpoint: Mapping[str, Any] | None = None) -> None:
        if checkpoint is not None:
            self.checkpoint = dict(checkpoint)
        async with self.sessionmaker() as session:
            held = await service.renew(
                session, self._lease, progress_pct=pct, checkpoint=checkpoint
            )
        if not held:
            raise LeaseLost(f"job {self.job_id} is no longer ours")


JobHandler = Callable[[JobContext], Awaitable[Mapping[str, Any]]]


class JobRunner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease_seconds: float,
        poll_seconds: float,
        concurrency: int,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._handlers: dict[str, JobHandler] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._by_job: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self.worker_id = worker_identity()

    def register(self, kind: str, handler: JobHandler) -> None:
        self._handlers[kind] = handler
        self.wake()

    def cancel(self, job_id: int) -> bool:
        """Stop the job's handler now if this process runs it (after ``service.cancel``
        marked it, so the interrupted handler does not hand it back to the queue)."""
        task = self._by_job.get(job_id)
        if task is None:
            return False
        task.cancel()
        return True

    async def hand_back(self, tags: Iterable[Mapping[str, Any]]) -> int:
        """Requeue the jobs of sandbox runs that a dead worker left (``sandbox_tag``s;
        other tags are ignored) and look for work; answers how many were handed back."""
        handed = 0
        for tag in tags:
            job_id, owner = tag.get("job_id"), tag.get("lease_owner")
            if isinstance(job_id, int) and isinstance(owner, str):
                async with self._sessionmaker() as session:
                    handed += await service.hand_back(session, job_id=job_id, lease_owner=owner)
        if handed:
            log.warning("handed back jobs of a stopped worker", extra={"jobs": handed})
            self.wake()
        return handed

    def wake(self) -> None:
        """Look for work now (called after a job is queued in this process)."""
        self._wake.set()

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="job-runner")

    async def stop(self) -> None:
        if self._loop_task is not None:
            await cancel_and_wait(self._loop_task)
            self._loop_task = None
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                async with self._sessionmaker() as session:
                    requeued, failed = await service.recover_expired(session)
                if requeued or failed:
                    log.warning(
                        "recovered interrupted jobs",
                        extra={"requeued": requeued, "failed": failed},
                    )
                await self._claim_while_free()
            except Exception:
                log.exception("job runner cycle failed")
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11, wait_for returns normally when
            # the wake and a cancel (stop) land together, so the cancel was lost and stop()
            # waited on this loop for ever (found as a rare test shutdown hang).
            with suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._wake.wait()

    async def _claim_while_free(self) -> None:
        while self._handlers and not self._slots.locked():
            async with self._sessionmaker() as session:
                job = await service.claim_next(
                    session,
                    kinds=self._handlers,
                    worker_id=self.worker_id,
                    lease_seconds=self._lease_seconds,
                )
            if job is None:
                return
            await self._slots.acquire()
            # The job's own task logs under the id of the request that queued it.
            with working_for(job.request_id or new_work_id(f"job{job.id}")):
                task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
            self._running.add(task)
            self._by_job[job.id] = task
            task.add_done_callback(self._running.discard)
            task.add_done_callback(functools.partial(self._forget, job.id))

    def _forget(self, job_id: int, _task: asyncio.Task[None]) -> None:
        self._by_job.pop(job_id, None)

    async def _run(self, job: Job) -> None:
        lease = service.Lease(job.id, self.worker_id, self._lease_seconds)
        context = JobContext(
            job_id=job.id,
            params=dict(job.params),
            checkpoint=dict(job.checkpoint or {}),
            attempt=job.attempts,
            sessionmaker=self._sessionmaker,
            _lease=lease,
        )
        heartbeat = asyncio.create_task(self._heartbeat(lease, asyncio.current_task()))
        try:
            result = await self._handlers[job.kind](context)
            async with self._sessionmaker() as session:
                await service.complete(session, lease, result=result)
        except asyncio.CancelledError:
            # Shutdown (or a lost lease): hand the job back for a later resume. A cancelled
            # job is no longer running under this lease, so this leaves it cancelled.
            await _run_to_the_end(self._release(lease))
            raise
        except LeaseLost:
            log.warning("job lease lost", extra={"job_id": job.id})
        except JobFailed as exc:
            async with self._sessionmaker() as session:
                await service.fail(session, lease, error=str(exc), retry=False)
        except Exception as exc:
            log.exception("job failed", extra={"job_id": job.id, "kind": job.kind})
            async with self._sessionmaker() as session:
                await service.fail(session, lease, error=_describe(exc), retry=True)
        finally:
            heartbeat.cancel()
            # Swallowing a second cancel of this job here is deliberate: the slot must be
            # given back whatever happens (stop() waits for this task anyway).
            with suppress(asyncio.CancelledError):
                await heartbeat
            self._slots.release()
            self.wake()  # a slot is free, also when the job was cancelled

    async def _release(self, lease: service.Lease) -> None:
        async with self._sessionmaker() as session:
            await service.release(session, lease)

    async def _heartbeat(self, lease: service.Lease, worker: asyncio.Task[Any] | None) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            async with self._sessionmaker() as session:
                held = await service.renew(session, lease)
            if not held and worker is not None:
                worker.cancel()
                return


# A lease release takes milliseconds; one that has not finished by then never will (its
# database is gone, e.g. at shutdown after the engine closed), and the lease's expiry
# hands the job back anyway. Without a bound, a shutdown could wait on it for ever.
RELEASE_LIMIT_SECONDS = 10.0


async def _run_to_the_end(
    work: Coroutine[Any, Any, None], *, limit: float = RELEASE_LIMIT_SECONDS
) -> None:
    """Run ``work`` in a task of its own and wait for it even if this task is cancelled
    again meanwhile (a shutdown right after a cancel), for at most ``limit`` seconds.
    Shielding the statement alone is not enough: the session around it would be closed
    under it, leaving its connection idle in a transaction that holds the job's row lock."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    deadline = loop.time() + limit
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            task.cancel()
            log.warning("job lease release did not finish; its expiry hands the job back")
            return
        with suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), remaining)
    task.result()


def _describe(exc: Exception) -> str:
    # Handlers raise our own error types with readable messages; anything else is a bug
    # whose details belong in the log, not in an API answer.
    message = str(exc)
    return message if message and type(exc).__module__.startswith("hyperoru") else "internal error"


@asynccontextmanager
async def job_runner(app: FastAPI) -> AsyncIterator[JobRunner]:
    """The app's one runner (``Services.jobs``, started and stopped with the services):
    domains register their handlers on it in their lifespans."""
    yield app.state.services.jobs
