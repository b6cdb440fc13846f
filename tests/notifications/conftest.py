"""Bot tests: the app on the trading tests' scripted market, Telegram and Discord fakes on
loopback, and a bots clock the test moves; the background loops are off and tests call
the worker's, poller's and summaries' ``tick`` themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app, replace_services
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import running
from tests.fakes.discord_api import FakeDiscord, fake_discord
from tests.fakes.telegram_api import FakeTelegram, fake_telegram
from tests.trading.market import ScriptedMarket, TestClock

TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
DISCORD_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"


class BotClock:
    """Starts an hour ahead of the wall clock, so rows written at the wall clock's now
    are always due for the worker."""

    __test__ = False

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        fake.add_bot(TELEGRAM_TOKEN, "hyperoru_test_bot")
        yield fake


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        fake.add_bot(DISCORD_TOKEN, "hyperoru-discord")
        yield fake


@pytest.fixture
def bot_clock() -> BotClock:
    return BotClock()


@pytest.fixture
def public_url() -> str:
    return ""


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings],
    telegram: FakeTelegram,
    discord: FakeDiscord,
    public_url: str,
) -> Settings:
    return make_settings(
        bots="off",
        telegram_api_url=telegram.base_url,
        discord_api_url=discord.base_url,
        public_url=public_url,
    )


@pytest.fixture
async def app(settings: Settings, bot_clock: BotClock) -> AsyncIterator[FastAPI]:
    clock = TestClock()
    market = ScriptedMarket(clock)
    application = create_app(settings)
    application.state.trading_clock = clock
    application.state.trading_monitor_seconds = None
    application.state.bots_clock = bot_clock
    async with running(application):
        replace_services(application, market=market.runtime())
        assert await market.cache.refresh()
        yield application


def headers(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}
