"""The factor engine: its routes, the effectiveness job on the app's runner and the
schedule that queues it (only while the engine is enabled)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.factors.router import router
from hyperoru.factors.runs import KIND, effectiveness_handler, scheduler
from hyperoru.factors.status import status_router
from hyperoru.jobs.runner import job_runner


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services  # hyperoru.services.Services
    settings = services.settings
    if settings.factor_engine != "enabled":
        yield
        return
    async with job_runner(app) as runner:
        runner.register(
            KIND, effectiveness_handler(services.sessionmaker, services.market.provider, settings)
        )
        async with scheduler(services.sessionmaker, settings, runner.wake):
            yield


DOMAIN = Domain(name="factors", protected_routers=(status_router, router), lifespan=_lifespan)
