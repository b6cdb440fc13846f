"""Decisions: the pipeline on ``app.state.pipeline`` and, in the embedded default, the
trader runtime running inside the API process. A flow: the cycle spans strategies,
prompts, programs, trading, realtime and signals; the routes stay in strategies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.flows.decision_parts import pipeline_parts
from hyperoru.metrics.observers import timed_cycles
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.signals.domain import signal_runtime_for
from hyperoru.stopping import cancel_and_wait
from hyperoru.strategies.llm.factory import llm_http_client
from hyperoru.strategies.pipeline import DecisionPipeline
from hyperoru.strategies.router import router


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services
    settings = services.settings
    http = llm_http_client(services.outbound_guard, settings)
    # One bound on the cycles this process runs at once, whatever started them.
    app.state.cycle_gate = asyncio.Semaphore(settings.max_concurrent_cycles)
    pipeline = DecisionPipeline(pipeline_parts(app, http))
    app.state.pipeline = pipeline
    runners: list[asyncio.Task[None]] = []
    if settings.runtime == "embedded":
        scheduler = TraderScheduler(
            services.sessionmaker,
            timed_cycles(app.state.metrics, pipeline.run_cycle),
            tick_seconds=settings.runtime_tick_seconds,
            lease_seconds=settings.runtime_lease_seconds,
            cycle_timeout_seconds=settings.cycle_timeout_seconds,
            gate=app.state.cycle_gate,
            changed=services.versions.bump,
        )
        app.state.scheduler = scheduler
        runners.append(asyncio.create_task(scheduler.run(), name="trader-runtime"))
        # Signal pools start cycles through the same pipeline, in their own task.
        app.state.signal_runtime = signal_runtime_for(app)
        runners.append(asyncio.create_task(app.state.signal_runtime.run(), name="signals"))
    try:
        yield
    finally:
        await cancel_and_wait(*runners)
        await pipeline.close()
        await http.aclose()


DOMAIN = Domain(name="strategies", protected_routers=(router,), lifespan=_lifespan)
