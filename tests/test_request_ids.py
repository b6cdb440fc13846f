"""Every log line written on behalf of a request carries its id, and so do the lines of
the jobs it queued; a scheduled cycle, started by no request, logs under an id of its own."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.jobs import service as jobs
from hyperoru.jobs.models import Job, JobStatus
from hyperoru.jobs.runner import JobContext
from hyperoru.logging_setup import JsonFormatter, request_id_var, working_for
from hyperoru.runtime.scheduler import run_counted
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow
from tests.helpers import STRONG_PASSWORD, Api

work_log = logging.getLogger("hyperoru.tests.work")


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the server's formatter writes, as dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("hyperoru")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


async def test_a_request_id_reaches_every_line_logged_for_the_request(api: Api) -> None:
    with captured() as lines:
        response = await api.client.post(
            "/api/users/register",
            json={"username": "traced", "password": STRONG_PASSWORD},
            headers={"X-Request-ID": "trace-register-1"},
        )
        assert response.status_code == 201
    (registered,) = [line for line in lines if line["msg"] == "user registered"]
    assert registered["request_id"] == "trace-register-1"
    assert request_id_var.get() is None  # nothing leaks out of the request


async def test_a_job_logs_under_the_request_that_queued_it(app: FastAPI, api: Api) -> None:
    user, _ = await api.user()
    finished = asyncio.Event()

    async def handler(context: JobContext) -> dict[str, Any]:
        work_log.info("job working", extra={"job": context.job_id})
        finished.set()
        return {}

    runner = app.state.services.jobs
    runner.register("trace-test", handler)
    with captured() as lines:
        with working_for("trace-job-7"):
            async with app.state.services.sessionmaker() as session, session.begin():
                job = await jobs.create_job(
                    session, kind="trace-test", owner_id=user["id"], params={}, max_attempts=1
                )
        runner.wake()
        async with asyncio.timeout(60):
            await finished.wait()
            while True:  # until the runner has recorded the job's end
                async with app.state.services.sessionmaker() as session:
                    status = await session.scalar(select(Job.status).where(Job.id == job.id))
                if status == JobStatus.COMPLETED:
                    break
                await asyncio.sleep(0.05)
    (working,) = [line for line in lines if line["msg"] == "job working"]
    assert working["request_id"] == "trace-job-7"


async def test_a_scheduled_cycle_logs_under_an_id_of_its_own(app: FastAPI) -> None:
    seen: list[str | None] = []

    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        work_log.info("cycle working")
        seen.append(request_id_var.get())
        return CycleOutcome(ok=True, ran=False)

    trigger = Trigger(kind="scheduled", at=utcnow())
    sessions = app.state.services.sessionmaker
    with captured() as lines:
        for _ in range(2):
            await run_counted(sessions, cycle, 1, trigger, limit_seconds=5)
        with working_for("trace-manual-3"):  # a cycle a request started keeps its id
            await run_counted(sessions, cycle, 1, trigger, limit_seconds=5)
    first, second, manual = seen
    assert first and second and first.startswith("cycle_") and first != second
    assert manual == "trace-manual-3"
    assert [line["request_id"] for line in lines if line["msg"] == "cycle working"] == seen
