"""The assistant domain: its routes, its model client and the turns still running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.assistant.router import router
from hyperoru.assistant.tasks import TaskStore
from hyperoru.assistant.turns import AssistantRuntime
from hyperoru.domain import Domain
from hyperoru.strategies.llm.factory import llm_http_client


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services  # hyperoru.services.Services
    settings = services.settings
    # Its own connection pool: chats never hold the traders' model connections.
    runtime = AssistantRuntime(
        http=llm_http_client(services.outbound_guard, settings),
        tasks=TaskStore(settings.assistant_task_ttl_seconds),
    )
    app.state.assistant = runtime
    try:
        yield
    finally:
        await runtime.close()


DOMAIN = Domain(name="assistant", protected_routers=(router,), lifespan=_lifespan)
