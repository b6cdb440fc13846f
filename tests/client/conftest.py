"""A real server on loopback (uvicorn, the realtime tests' runner) for the client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from hyperoru.settings import Settings
from tests.realtime.conftest import FAST_LIMITS, LiveServer, run_server


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    settings = make_settings(rate_limit_auth_per_minute=1000)
    async with run_server(settings, FAST_LIMITS) as live:
        yield live


def base_url(live: LiveServer) -> str:
    return f"http://127.0.0.1:{live.port}"
