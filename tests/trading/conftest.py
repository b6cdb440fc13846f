"""Trading API tests: the app runs on a scripted market and a clock the test moves; the
monitor's background task is off, and tests call ``monitor.tick()`` when time passes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app, replace_services
from hyperoru.settings import Settings
from tests.conftest import running
from tests.trading.market import ScriptedMarket, TestClock


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def market(clock: TestClock) -> ScriptedMarket:
    return ScriptedMarket(clock)


@pytest.fixture
async def app(
    settings: Settings, clock: TestClock, market: ScriptedMarket
) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.state.trading_clock = clock
    application.state.trading_monitor_seconds = None
    async with running(application):
        replace_services(application, market=market.runtime())
        assert await market.cache.refresh()
        yield application
