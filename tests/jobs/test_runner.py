"""The job runner over the jobs table: claims, leases, retries, restart recovery."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.app import create_app
from hyperoru.jobs import service
from hyperoru.jobs.models import Job
from hyperoru.jobs.runner import JobContext, JobFailed, JobHandler, JobRunner
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.market.waiting import eventually


def _sessions(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return app.state.services.sessionmaker


async def _new_job(app: FastAPI, owner_id: int, kind: str, max_attempts: int = 3) -> int:
    async with _sessions(app)() as session:
        job = await service.create_job(
            session, kind=kind, owner_id=owner_id, params={"n": 3}, max_attempts=max_attempts
        )
        await session.commit()
        return job.id


async def _job(app: FastAPI, job_id: int) -> Job:
    async with _sessions(app)() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def _settled(app: FastAPI, job_id: int) -> Job:
    return await eventually(
        lambda: _job(app, job_id), lambda job: job.status in ("completed", "failed")
    )


async def _crash_while_running(app: FastAPI, job_id: int, kind: str) -> None:
    """What a killed process leaves behind: a running job whose lease ran out."""
    async with _sessions(app)() as session:
        claimed = await service.claim_next(
            session, kinds=[kind], worker_id="dead-worker", lease_seconds=-1
        )
    assert claimed is not None and claimed.id == job_id and claimed.status == "running"


def _runner(app: FastAPI) -> JobRunner:
    return app.state.services.jobs


async def _counting(context: JobContext) -> Mapping[str, Any]:
    done = int(context.checkpoint.get("done", 0))
    for step in range(done, int(context.params["n"])):
        await context.progress((step + 1) / context.params["n"] * 100, {"done": step + 1})
    return {"done": int(context.params["n"]), "attempt": context.attempt}


def _blocking_handler() -> tuple[asyncio.Event, JobHandler]:
    """A handler that never finishes, and the event it sets once it runs."""
    started = asyncio.Event()

    async def forever(context: JobContext) -> Mapping[str, Any]:
        started.set()
        await asyncio.Event().wait()
        return {}

    return started, forever


async def test_a_crashed_job_resumes_after_restart(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    job_id = await _new_job(app, user["id"], "test.resume")
    await _crash_while_running(app, job_id, "test.resume")
    # A job that died after checkpointing resumes from its checkpoint.
    async with _sessions(app)() as session:
        lease = service.Lease(job_id, "dead-worker", -1)
        await service.renew(session, lease, progress_pct=33.0, checkpoint={"done": 1})
    seen: list[int] = []

    async def handler(context: JobContext) -> Mapping[str, Any]:
        seen.append(int(context.checkpoint["done"]))
        return await _counting(context)

    _runner(app).register("test.resume", handler)
    job = await _settled(app, job_id)
    assert job.status == "completed" and job.progress_pct == 100.0
    assert seen == [1]
    assert job.attempts == 2 and job.result == {"done": 3, "attempt": 2}
    assert job.lease_owner is None and job.finished_at is not None


async def test_a_crashed_job_without_attempts_left_is_failed(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    job_id = await _new_job(app, user["id"], "test.once", max_attempts=1)
    await _crash_while_running(app, job_id, "test.once")
    _runner(app).wake()
    job = await _settled(app, job_id)
    assert job.status == "failed" and "interrupted" in (job.error or "")
    assert job.finished_at is not None and job.lease_owner is None


async def test_failures_retry_then_fail_with_a_safe_message(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    calls: list[int] = []

    async def flaky(context: JobContext) -> Mapping[str, Any]:
        calls.append(context.attempt)
        raise RuntimeError("secret internals /etc/passwd")

    _runner(app).register("test.flaky", flaky)
    job = await _settled(app, await _new_job(app, user["id"], "test.flaky", max_attempts=3))
    assert calls == [1, 2, 3]
    assert job.status == "failed" and job.error == "internal error"


async def test_a_permanent_failure_is_not_retried(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    calls: list[int] = []

    async def hopeless(context: JobContext) -> Mapping[str, Any]:
        calls.append(context.attempt)
        raise JobFailed("no such data upstream")

    _runner(app).register("test.hopeless", hopeless)
    job = await _settled(app, await _new_job(app, user["id"], "test.hopeless"))
    assert calls == [1]
    assert job.status == "failed" and job.error == "no such data upstream"


async def test_a_job_is_claimed_once_among_competing_workers(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    job_id = await _new_job(app, user["id"], "test.contended")

    async def claim(worker: str) -> Job | None:
        async with _sessions(app)() as session:
            return await service.claim_next(
                session, kinds=["test.contended"], worker_id=worker, lease_seconds=30
            )

    results = await asyncio.gather(*(claim(f"worker-{i}") for i in range(4)))
    winners = [job for job in results if job is not None]
    assert [job.id for job in winners] == [job_id]
    assert (await _job(app, job_id)).lease_owner == winners[0].lease_owner


async def test_clean_shutdown_hands_the_job_back(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    started, forever = _blocking_handler()

    async with running(app), asgi_client(app) as client:
        user, _ = await Api(client).user()
        job_id = await _new_job(app, user["id"], "test.forever")
        _runner(app).register("test.forever", forever)
        await asyncio.wait_for(started.wait(), timeout=30)
        assert (await _job(app, job_id)).status == "running"
        sessions = _sessions(app)
    async with sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.status == "queued" and job.attempts == 0 and job.lease_owner is None


async def test_a_second_cancel_during_the_hand_back_still_finishes_it(
    make_settings: Callable[..., Settings],
) -> None:
    """A cancel (DELETE on a backtest) followed at once by a shutdown cancels the handler's
    task twice. The hand-back must still commit: an abandoned one would leave its
    connection idle in a transaction holding the job's row lock."""
    app = create_app(make_settings())
    started, forever = _blocking_handler()

    async with running(app), asgi_client(app) as client:
        user, _ = await Api(client).user()
        job_id = await _new_job(app, user["id"], "test.twice")
        runner = _runner(app)
        runner.register("test.twice", forever)
        await asyncio.wait_for(started.wait(), timeout=30)
        task = next(t for t in runner._running if t.get_name() == f"job-{job_id}")
        task.cancel()
        await asyncio.sleep(0)  # the hand-back has begun
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        job = await _job(app, job_id)
        assert job.status == "queued" and job.lease_owner is None
        sessions = _sessions(app)
        async with sessions() as session:
            # Nothing left holding the row: it can be locked and changed right away.
            await session.execute(update(Job).where(Job.id == job_id).values(attempts=0))
            await session.commit()


async def test_hand_back_requeues_only_a_job_the_dead_worker_still_holds(
    app: FastAPI, api: Api
) -> None:
    user, _ = await api.user()
    sessions = _sessions(app)
    ids = [await _new_job(app, user["id"], "test.handback", max_attempts=m) for m in (3, 1, 3)]
    async with sessions() as session:
        for _ in ids:  # a lease far from running out: only a hand-back frees them now
            await service.claim_next(
                session, kinds=["test.handback"], worker_id="dead-worker", lease_seconds=600
            )
        await service.cancel(session, job_id=ids[2])  # cancelled meanwhile
        await session.commit()

    tags = [
        {"job_id": ids[0], "lease_owner": "dead-worker"},
        {"job_id": ids[1], "lease_owner": "dead-worker"},
        {"job_id": ids[2], "lease_owner": "dead-worker"},
        {"job_id": ids[0], "lease_owner": "someone-else"},  # not that worker's
        {"pid": 12},  # a cycle's or test run's record: no job
    ]
    assert await _runner(app).hand_back(tags) == 2

    statuses = [(await _job(app, job_id)).status for job_id in ids]
    assert statuses == ["queued", "failed", "cancelled"]
    failed = await _job(app, ids[1])
    assert failed.error == "interrupted: the worker stopped and no attempts are left"
    assert (await _job(app, ids[0])).lease_owner is None


async def test_a_release_that_never_finishes_does_not_hold_a_cancelled_job_for_ever() -> None:
    from hyperoru.jobs.runner import _run_to_the_end

    never = asyncio.Event()

    async def stuck_release() -> None:
        await never.wait()  # what a release on a closed database looks like

    waiting = asyncio.create_task(_run_to_the_end(stuck_release(), limit=0.2))
    await asyncio.sleep(0)
    waiting.cancel()  # the one cancel a shutdown sends: swallowed while the release runs
    await asyncio.wait_for(waiting, timeout=30)  # ends at the limit, not never
    assert waiting.done() and not waiting.cancelled()


async def test_a_stop_that_lands_with_a_wake_still_stops_the_runner(app: FastAPI) -> None:
    # A job finishing wakes the runner; a shutdown cancels it. When both land in the same
    # loop turn, the wait must still end in the cancel: on Python 3.11, asyncio.wait_for
    # returned normally instead and stop() waited on the runner for ever.
    runner = app.state.services.jobs

    async def idle() -> bool:
        return bool(runner._wake._waiters)  # the loop is in its wait for work

    await eventually(idle, bool, attempts=400)
    loop_task = runner._loop_task
    runner.wake()
    # Broken, stop() hung until this deadline's own cancel reached the loop through it.
    async with asyncio.timeout(30) as deadline:
        await runner.stop()
    assert not deadline.expired()
    assert loop_task.done() and runner._loop_task is None
