"""An app whose LLM allowlist admits the fake model server, with single-attempt model
calls (a failing reply fails its snapshot at once) and a fast job poll."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(
        make_settings(
            llm_allowed_hosts=f"127.0.0.1:{llm.port}",
            llm_max_attempts=1,
            jobs_poll_seconds=0.1,
        )
    )
    async with running(app), asgi_client(app) as client:
        yield app, Api(client)
