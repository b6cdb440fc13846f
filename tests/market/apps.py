"""Apps on a venue fake, started and stopped by the test that needs them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api

# Enough queued faults to cover every request a test can make.
ALWAYS = 100_000


@asynccontextmanager
async def venue_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app = create_app(settings)
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        yield client, token
