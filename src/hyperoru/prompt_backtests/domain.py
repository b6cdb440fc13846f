"""The prompt backtests domain: its routes and its job handler on the app's job runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.jobs.runner import job_runner
from hyperoru.prompt_backtests.router import router, tasks_router
from hyperoru.prompt_backtests.runner import prompt_backtest_handler
from hyperoru.prompt_backtests.service import PROMPT_BACKTEST_KIND
from hyperoru.strategies.llm.factory import llm_http_client


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Its own connection pool: a long backtest never holds the live traders' connections.
    services = app.state.services  # hyperoru.services.Services
    http = llm_http_client(services.outbound_guard, services.settings)
    try:
        async with job_runner(app) as runner:
            runner.register(PROMPT_BACKTEST_KIND, prompt_backtest_handler(app, http))
            yield
    finally:
        await http.aclose()


DOMAIN = Domain(
    name="prompt_backtests", protected_routers=(router, tasks_router), lifespan=_lifespan
)
