from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.prompts.router import router
from hyperoru.prompts.service import sync_builtin_templates


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with app.state.services.sessionmaker() as session:
        await sync_builtin_templates(session)
    yield


DOMAIN = Domain(name="prompts", protected_routers=(router,), lifespan=_lifespan)
