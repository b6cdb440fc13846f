"""Many traders at once against a slow model, with the default database pool: every cycle
is recorded ok and none fails for want of a database connection, because no cycle holds
one while its model thinks. (It used to: 16 simultaneous cycles exhausted SQLite's pool
of 5 + 10, and about 30 PostgreSQL's.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from hyperoru.app import create_app
from hyperoru.runtime.models import TraderRuntime
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.settings import Settings
from hyperoru.strategies.records import DecisionRecord
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm

TRADERS_PER_USER = 50  # under the per-user cap of 100


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> AsyncIterator[tuple[FastAPI, Api]]:
    settings = make_settings(
        llm_allowed_hosts=f"127.0.0.1:{llm.port}",
        llm_max_attempts=1,
        # Every cycle in flight at once, so all of them wait on the model together.
        max_concurrent_cycles=500,
        llm_max_connections=500,
        llm_max_connections_per_host=500,
        rate_limit_user_per_minute=100_000,
        rate_limit_ip_per_minute=100_000,
    )
    app = create_app(settings)
    async with running(app), asgi_client(app) as client:
        assert await app.state.services.market.cache.refresh()
        yield app, Api(client)


async def _traders(api: Api, llm: FakeLlm, count: int) -> list[int]:
    ids: list[int] = []
    for first in range(0, count, TRADERS_PER_USER):
        _, token = await api.user()
        # A short template keeps the test about connections, not about rendering.
        prompt = await api.client.post(
            "/api/prompts/",
            json={"name": "short", "content": "Trade {symbols}.\n{output_format}"},
            headers=api.bearer(token),
        )
        assert prompt.status_code == 201, prompt.text

        async def one(index: int, token: str = token, prompt_id: int = prompt.json()["id"]) -> int:
            trader = await create_trader(
                api,
                token,
                name=f"trader {index}",
                llm_provider="openai",
                llm_model="m",
                llm_base_url=llm.base_url,
                llm_api_key="sk-many-cycles-key-0000",
            )
            response = await api.client.put(
                f"/api/account/{trader['id']}/strategy",
                json={"symbols": ["BTC"], "prompt_id": prompt_id},
                headers=api.bearer(token),
            )
            assert response.status_code == 200, response.text
            return trader["id"]

        batch = range(first, min(count, first + TRADERS_PER_USER))
        ids += await asyncio.gather(*(one(index) for index in batch))
    return ids


@pytest.mark.parametrize("count", [16, 200])
async def test_many_simultaneous_cycles_against_a_slow_model_all_succeed(
    world: tuple[FastAPI, Api], llm: FakeLlm, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    app, api = world
    await _traders(api, llm, count)
    everyone_asked = asyncio.Event()

    async def answer_when_all_have_asked(_: object) -> None:
        # The slowest model there is: nobody gets an answer before every cycle is waiting
        # on one. (The guard only turns a hang into a failed cycle.)
        if len(llm.requests) == count:
            everyone_asked.set()
        await asyncio.wait_for(everyone_asked.wait(), 240)

    llm.on_request = answer_when_all_have_asked
    scheduler = TraderScheduler(
        app.state.services.sessionmaker,
        app.state.pipeline.run_cycle,
        cycle_timeout_seconds=300,
        gate=app.state.cycle_gate,
    )
    started = await scheduler.tick(utcnow())
    assert len(started) == count
    await scheduler.drain()

    async with app.state.services.sessionmaker() as session:
        statuses = dict(
            (
                await session.execute(
                    select(DecisionRecord.status, func.count()).group_by(DecisionRecord.status)
                )
            ).all()
        )
        errors = (await session.scalars(select(DecisionRecord.error).distinct())).all()
        failures = await session.scalar(select(func.sum(TraderRuntime.consecutive_failures)))
    assert statuses == {"ok": count}, errors
    assert failures == 0
    assert len(llm.requests) == count
    # They really waited on the model all together, far more of them than the pool has
    # connections (5 + 10 on SQLite, 10 + 20 on PostgreSQL).
    assert llm.most_in_flight == count
    assert not [r for r in caplog.records if "QueuePool limit" in r.getMessage()]
