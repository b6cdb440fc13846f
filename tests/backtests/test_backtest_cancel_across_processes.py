"""A cancel sent to one server reaches the backtest another server runs: that worker
loses its lease, notices at its next heartbeat or progress report, and kills its sandbox.

Two apps on one database stand in for two processes (each has its own job runner and
worker identity); both run in this test process, so their sandboxes are its children.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack

from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.jobs.models import Job
from hyperoru.settings import Settings
from tests.backtests.support import (
    SLOW,
    caught_running,
    create_program,
    live_sandboxes,
    read,
    request_body,
    submit,
)
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.market.waiting import eventually


async def _lease_owner(app: FastAPI, job_id: int) -> str | None:
    async with app.state.services.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.lease_owner


async def test_a_cancel_reaches_the_worker_in_another_process(
    make_settings: Callable[..., Settings],
) -> None:
    # A short lease: the other worker's heartbeat comes every half second.
    settings = make_settings(jobs_lease_seconds=1.5)
    async with AsyncExitStack() as stack:
        apps = [create_app(settings), create_app(settings)]
        for app in apps:
            await stack.enter_async_context(running(app))
        clients = [await stack.enter_async_context(asgi_client(app)) for app in apps]
        api = Api(clients[0])
        _, token = await api.user()
        program_id = await create_program(api, token, code=SLOW)
        body = request_body(program_id, start_date="2026-01-01", end_date="2026-01-15")
        job = await submit(api, token, body)
        started = await eventually(
            lambda: read(api, token, job["id"]), caught_running, attempts=1200
        )
        assert started["status"] == "running", started

        owner = await _lease_owner(apps[0], job["id"])
        worker = next(i for i, app in enumerate(apps) if app.state.services.jobs.worker_id == owner)
        elsewhere = clients[1 - worker]
        cancelled = await elsewhere.delete(f"/api/backtests/{job['id']}", headers=api.bearer(token))
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert not apps[1 - worker].state.services.jobs.cancel(job["id"])  # nothing ran there

        await eventually(live_sandboxes, lambda pids: pids == [], attempts=600)
        after = await read(api, token, job["id"])
        assert after["status"] == "cancelled" and after["fingerprint"] is None
