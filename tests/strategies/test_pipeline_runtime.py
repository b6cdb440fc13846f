"""The embedded runtime with the real pipeline: a model that takes 30 s never delays
another trader, and a model that keeps failing pauses its trader after three cycles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import update

from hyperoru.accounts.models import AccountStrategy
from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm, Reply, completion, fake_llm


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as server:
        yield server


@pytest.fixture
async def running(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> AsyncIterator[tuple[FastAPI, Api]]:
    settings = make_settings(
        runtime="embedded",
        runtime_tick_seconds=0.1,
        cycle_timeout_seconds=60,
        llm_allowed_hosts=f"127.0.0.1:{llm.port}",
        llm_max_attempts=1,
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60), asgi_client(app) as client:
        assert await app.state.market.cache.refresh()
        yield app, Api(client)


async def _scheduled(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    trader = await create_trader(api, token, **fields)
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC", "ETH"], "scheduled_trigger_enabled": True},
        headers=api.bearer(token),
    )
    assert response.status_code == 200
    return trader


async def _every_second(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(update(AccountStrategy).values(trigger_interval=1))
        await session.commit()


async def _decisions(api: Api, token: str, trader_id: int) -> list[dict[str, Any]]:
    response = await api.client.get(
        f"/api/account/{trader_id}/decisions", headers=api.bearer(token)
    )
    return response.json()


async def test_a_thirty_second_model_does_not_delay_another_trader(
    running: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = running
    _, token = await api.user()
    # Slower than the cycle timeout (60 s): it never answers within this test.
    llm.queue(*[Reply(delay=120, body=completion('{"operation": "hold"}'))] * 5)
    slow = await _scheduled(
        api,
        token,
        name="slow",
        llm_provider="openai",
        llm_model="m",
        llm_base_url=llm.base_url,
        llm_api_key="sk-slow-model-key-000",
    )
    fast = await _scheduled(api, token, name="fast", llm_provider="builtin")
    await _every_second(app)
    # Three 1-second cycles of the fast trader happen while the slow trader waits on its
    # model; the 45 s guard only stops a hung test (it stays under the 60 s cycle timeout,
    # so the slow cycle is still pending however loaded the machine is).
    for _ in range(450):
        if len(await _decisions(api, token, fast["id"])) >= 3:
            break
        await asyncio.sleep(0.1)
    assert len(await _decisions(api, token, fast["id"])) >= 3
    assert await _decisions(api, token, slow["id"]) == []  # still waiting for its model
    assert len(llm.requests) == 1  # one cycle at a time per trader


async def test_three_failed_cycles_pause_the_trader_with_a_reason(
    running: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = running
    _, token = await api.user()
    llm.queue(*[Reply(body=completion("the market looks great, buy!"))] * 5)
    trader = await _scheduled(
        api,
        token,
        name="confused",
        llm_provider="openai",
        llm_model="m",
        llm_base_url=llm.base_url,
        llm_api_key="sk-confused-key-0000",
    )
    await _every_second(app)
    for _ in range(300):  # a deadline of 30 s, generous for a loaded machine
        state = (
            await api.client.get(f"/api/account/{trader['id']}", headers=api.bearer(token))
        ).json()
        if state["status"] == "error":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "error"
    assert "3 failed cycles" in state["status_reason"]
    assert "not valid JSON" in state["status_reason"]
    records = await _decisions(api, token, trader["id"])
    assert [r["status"] for r in records] == ["failed"] * 3
    await asyncio.sleep(1.5)
    assert len(await _decisions(api, token, trader["id"])) == 3  # paused: no more cycles
