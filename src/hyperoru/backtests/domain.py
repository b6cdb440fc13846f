"""Program backtests: the job handler on the app's runner and the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.backtests.handler import BACKTEST_KIND, backtest_handler, reap_sandbox_orphans
from hyperoru.backtests.router import programs_router, router
from hyperoru.domain import Domain
from hyperoru.jobs.runner import job_runner


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services  # hyperoru.services.Services
    handler = backtest_handler(services.sessionmaker, services.market, services.sandbox)
    async with job_runner(app) as runner:
        # Sandbox processes a crashed server left are killed, their jobs queued again.
        await reap_sandbox_orphans(services.sandbox, runner)
        runner.register(BACKTEST_KIND, handler)
        yield


DOMAIN = Domain(name="backtests", protected_routers=(router, programs_router), lifespan=_lifespan)
