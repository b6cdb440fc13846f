"""The assistant domain: its routes, its model client and the turns still running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.assistant.router import router
from hyperoru.assistant.state import HEARTBEAT_SECONDS, open_assistant_state
from hyperoru.assistant.turns import AssistantRuntime
from hyperoru.domain import Domain
from hyperoru.stopping import cancel_and_wait
from hyperoru.strategies.llm.factory import llm_http_client


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services  # hyperoru.services.Services
    settings = services.settings
    async with open_assistant_state(settings) as state:
        # Its own connection pool: chats never hold the traders' model connections.
        runtime = AssistantRuntime(
            http=llm_http_client(services.outbound_guard, settings),
            tasks=state.tasks,
            slots=state.slots,
        )
        app.state.assistant = runtime
        heartbeat = asyncio.create_task(
            runtime.renew_forever(HEARTBEAT_SECONDS), name="assistant-heartbeat"
        )
        try:
            yield
        finally:
            # The turns first: stopping them writes their end and gives their slots back.
            try:
                await runtime.close()
            finally:
                await cancel_and_wait(heartbeat)


DOMAIN = Domain(name="assistant", protected_routers=(router,), lifespan=_lifespan)
