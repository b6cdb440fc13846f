"""The trader runtime with the real pipeline and a real model server on loopback: a slow
model never delays another trader, three failed cycles pause a trader, a paused (or
deleted) trader never runs again — not even when its pause lands between a tick's read
and its claim — and resuming it starts a fresh failure streak.

The scheduler is driven tick by tick with an explicit clock (``tick``/``read``/
``start_due``/``drain``): nothing here waits on the wall clock or on a background loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, update

from hyperoru.accounts.models import Account
from hyperoru.app import create_app
from hyperoru.runtime.models import StrategyRuntime, TraderRuntime
from hyperoru.runtime.scheduler import TraderScheduler, run_counted
from hyperoru.settings import Settings
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.trigger import Trigger
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.conftest import asgi_client, running
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm, RecordedRequest, Reply, completion

NOT_JSON = Reply(body=completion("the market looks great, buy!"))


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> AsyncIterator[tuple[FastAPI, Api]]:
    settings = make_settings(
        cycle_timeout_seconds=60,
        llm_allowed_hosts=f"127.0.0.1:{llm.port}",
        llm_max_attempts=1,
    )
    app = create_app(settings)
    async with running(app), asgi_client(app) as client:
        assert await app.state.services.market.cache.refresh()
        yield app, Api(client)


def scheduler_for(app: FastAPI) -> TraderScheduler:
    """The runtime as the app would run it (runtime "off" keeps the app's own loop away),
    with the real pipeline and the app's cycle gate."""
    return TraderScheduler(
        app.state.services.sessionmaker,
        app.state.pipeline.run_cycle,
        cycle_timeout_seconds=60,
        gate=app.state.cycle_gate,
        changed=app.state.services.versions.bump,
    )


async def _scheduled(api: Api, token: str, llm: FakeLlm, **fields: Any) -> dict[str, Any]:
    model = {
        "llm_provider": "openai",
        "llm_model": "m",
        "llm_base_url": llm.base_url,
        "llm_api_key": "sk-runtime-test-key-0000",
    }
    trader = await create_trader(api, token, **{**model, **fields})
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC", "ETH"], "scheduled_trigger_enabled": True},
        headers=api.bearer(token),
    )
    assert response.status_code == 200
    return trader


async def _decisions(api: Api, token: str, trader_id: int) -> list[dict[str, Any]]:
    response = await api.client.get(
        f"/api/account/{trader_id}/decisions", headers=api.bearer(token)
    )
    return response.json()


async def _state(app: FastAPI, trader_id: int) -> tuple[Account, int]:
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader_id)
        failures = await session.scalar(
            select(TraderRuntime.consecutive_failures).where(TraderRuntime.account_id == trader_id)
        )
    assert account is not None
    return account, failures or 0


def _at(start: datetime, seconds: int) -> datetime:
    # The API's default interval is 150 s: a tick every 150 s makes every cycle due.
    return start + timedelta(seconds=150 * seconds)


async def test_a_slow_model_never_delays_another_trader(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    # Slower than the cycle timeout: it never answers within this test.
    llm.queue(Reply(delay=120, body=completion('{"operation": "hold"}')))
    slow = await _scheduled(api, token, llm, name="slow")
    fast = await _scheduled(api, token, llm, name="fast", llm_provider="builtin")
    scheduler = scheduler_for(app)
    start = utcnow()
    try:
        for tick in range(3):
            await scheduler.tick(_at(start, tick))
            await scheduler.drain([fast["id"]])  # never waits for the slow trader
        assert len(await _decisions(api, token, fast["id"])) == 3
        assert await _decisions(api, token, slow["id"]) == []  # still waiting for its model
        assert len(llm.requests) == 1  # one cycle at a time per trader
    finally:
        await scheduler.stop()


async def test_three_failed_cycles_pause_the_trader_with_a_reason(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    llm.default_reply = NOT_JSON
    trader = await _scheduled(api, token, llm, name="confused")
    scheduler = scheduler_for(app)
    start = utcnow()
    for tick in range(5):
        await scheduler.tick(_at(start, tick))
        await scheduler.drain()
    account, failures = await _state(app, trader["id"])
    assert account.status == "error"
    assert "3 failed cycles" in (account.status_reason or "")
    assert "not valid JSON" in (account.status_reason or "")
    assert failures == 3
    records = await _decisions(api, token, trader["id"])
    assert [r["status"] for r in records] == ["failed"] * 3  # paused: no more cycles
    assert len(llm.requests) == 3


async def test_a_pause_shows_in_the_owners_next_trader_list(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    """The list is served from a per-user cache (issue 14): the runtime's pause is a
    change of the owner's data like any write of theirs, visible on the next read."""
    app, api = world
    _, token = await api.user()
    llm.default_reply = NOT_JSON
    trader = await _scheduled(api, token, llm, name="confused")
    scheduler = scheduler_for(app)
    start = utcnow()

    async def listed_status() -> str:
        response = await api.client.get("/api/account/list", headers=api.bearer(token))
        assert response.status_code == 200
        return next(t["status"] for t in response.json() if t["id"] == trader["id"])

    for tick in range(2):
        await scheduler.tick(_at(start, tick))
        await scheduler.drain()
        assert await listed_status() == "active"  # read (and cached) before the pause
    await scheduler.tick(_at(start, 2))
    await scheduler.drain()
    assert (await _state(app, trader["id"]))[0].status == "error"
    assert await listed_status() == "error"


async def test_a_trader_paused_between_a_ticks_read_and_its_claim_does_not_run(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    """The race behind item 8: a tick reads the list, then a cycle of the same trader that
    started elsewhere (here a signal firing) fails for the third time and pauses it, and
    only then does the tick claim its due traders."""
    app, api = world
    _, token = await api.user()
    llm.default_reply = NOT_JSON
    trader = await _scheduled(api, token, llm, name="confused")
    scheduler = scheduler_for(app)
    start = utcnow()
    for tick in range(2):
        await scheduler.tick(_at(start, tick))
        await scheduler.drain()
    assert (await _state(app, trader["id"]))[1] == 2

    due = await scheduler.read(_at(start, 2))
    assert [entry.account_id for entry in due] == [trader["id"]]
    signal = Trigger(kind="signal", at=_at(start, 2), pool_id=1, values={"pool_id": 1})
    counted = await run_counted(
        app.state.services.sessionmaker,
        app.state.pipeline.run_cycle,
        trader["id"],
        signal,
        limit_seconds=60,
    )
    assert counted.paused  # this cycle paused the trader
    assert await scheduler.start_due(due, _at(start, 2)) == []
    await scheduler.drain()

    account, failures = await _state(app, trader["id"])
    assert account.status == "error" and failures == 3  # not reset as if resumed
    assert len(llm.requests) == 3  # no fourth call of the model
    assert len(await _decisions(api, token, trader["id"])) == 3


@pytest.mark.parametrize("change", ["pause", "deactivate", "delete", "strategy_off"])
async def test_an_owner_change_between_read_and_claim_is_seen_by_the_claim(
    world: tuple[FastAPI, Api], llm: FakeLlm, change: str
) -> None:
    app, api = world
    _, token = await api.user()
    trader = await _scheduled(api, token, llm, name="stopped meanwhile")
    scheduler = scheduler_for(app)
    start = utcnow()
    due = await scheduler.read(start)
    assert [entry.account_id for entry in due] == [trader["id"]]
    path, auth = f"/api/account/{trader['id']}", api.bearer(token)
    if change == "pause":
        response = await api.client.put(path, json={"auto_trading_enabled": False}, headers=auth)
    elif change == "deactivate":
        response = await api.client.put(path, json={"is_active": False}, headers=auth)
    elif change == "delete":
        response = await api.client.delete(path, headers=auth)
    else:
        response = await api.client.put(
            f"{path}/strategy", json={"scheduled_trigger_enabled": False}, headers=auth
        )
    assert response.status_code < 300, response.text
    assert await scheduler.start_due(due, start) == []
    assert llm.requests == []


async def test_resuming_the_trader_starts_a_fresh_failure_streak(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    llm.default_reply = NOT_JSON
    trader = await _scheduled(api, token, llm, name="resumable")
    scheduler = scheduler_for(app)
    start = utcnow()
    for tick in range(3):
        await scheduler.tick(_at(start, tick))
        await scheduler.drain()
    assert (await _state(app, trader["id"]))[0].status == "error"

    resumed = await api.client.put(
        f"/api/account/{trader['id']}",
        json={"auto_trading_enabled": True},
        headers=api.bearer(token),
    )
    assert resumed.json()["status"] == "active"
    assert (await _state(app, trader["id"]))[1] == 0  # reset by the resume itself
    for tick in range(3, 5):
        await scheduler.tick(_at(start, tick))
        await scheduler.drain()
    account, failures = await _state(app, trader["id"])
    assert account.status == "active" and failures == 2  # two new failures, no pause yet


async def test_a_trader_paused_while_its_model_thinks_places_no_order(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    trader = await _scheduled(api, token, llm, name="paused mid-cycle", max_leverage=5)
    llm.queue(
        Reply(
            body=completion(
                json.dumps({"operation": "long", "symbol": "BTC", "leverage": 2, "size_pct": 10})
            )
        )
    )

    async def owner_pauses(_: RecordedRequest) -> None:
        response = await api.client.put(
            f"/api/account/{trader['id']}",
            json={"auto_trading_enabled": False},
            headers=api.bearer(token),
        )
        assert response.status_code == 200

    llm.on_request = owner_pauses
    scheduler = scheduler_for(app)
    await scheduler.tick(utcnow())
    await scheduler.drain()
    [record] = await _decisions(api, token, trader["id"])
    assert record["status"] == "ok"
    [outcome] = record["outcomes"]
    assert outcome["approved"] is True  # the rules would have let it through
    assert outcome["execution_status"] == "skipped"
    assert "paused" in outcome["reason"]
    assert record["executed"] is False and record["order_ids"] == []
    orders = await api.client.get(f"/api/orders/account/{trader['id']}", headers=api.bearer(token))
    assert orders.status_code == 200 and orders.json() == []


async def test_a_trader_taken_over_while_its_model_thinks_is_traded_once_by_the_new_holder(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    """Worker A's model is slow; meanwhile worker B takes the trader over (A's lease ran
    out). A's cycle must not place its order; B runs the cycle again at once and is the
    only one to trade."""
    app, api = world
    _, token = await api.user()
    trader = await _scheduled(api, token, llm, name="taken over", max_leverage=5)
    buy = Reply(
        body=completion(
            json.dumps({"operation": "long", "symbol": "BTC", "leverage": 2, "size_pct": 10})
        )
    )
    llm.queue(buy, buy)

    async def worker_b_takes_over(_: RecordedRequest) -> None:
        llm.on_request = None
        async with app.state.services.sessionmaker() as session:
            await session.execute(
                update(TraderRuntime)
                .where(TraderRuntime.account_id == trader["id"])
                .values(lease_owner="worker-b", lease_expires_at=utcnow() + timedelta(hours=1))
            )
            await session.commit()

    llm.on_request = worker_b_takes_over
    worker_a = scheduler_for(app)
    start = utcnow()
    await worker_a.tick(start)
    await worker_a.drain()
    assert len(llm.requests) == 1
    assert await _decisions(api, token, trader["id"]) == []  # nothing placed, nothing recorded
    assert (await _state(app, trader["id"]))[1] == 0  # and not a failure

    worker_b = TraderScheduler(
        app.state.services.sessionmaker,
        app.state.pipeline.run_cycle,
        cycle_timeout_seconds=60,
        owner="worker-b",
    )
    await worker_b.tick(start + timedelta(seconds=1))  # long before its next slot
    await worker_b.drain()
    [record] = await _decisions(api, token, trader["id"])
    assert record["executed"] is True and len(record["order_ids"]) == 1
    orders = await api.client.get(f"/api/orders/account/{trader['id']}", headers=api.bearer(token))
    assert [order["id"] for order in orders.json()] == record["order_ids"]


async def test_a_trader_deleted_while_its_model_thinks_leaves_no_record(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    trader = await _scheduled(api, token, llm, name="deleted mid-cycle")

    async def owner_deletes(_: RecordedRequest) -> None:
        response = await api.client.delete(
            f"/api/account/{trader['id']}", headers=api.bearer(token)
        )
        assert response.status_code < 300

    llm.on_request = owner_deletes
    scheduler = scheduler_for(app)
    await scheduler.tick(utcnow())
    await scheduler.drain()
    assert len(llm.requests) == 1
    async with app.state.services.sessionmaker() as session:
        records = (await session.scalars(select(DecisionRecord))).all()
        runtime = await session.get(TraderRuntime, trader["id"])
    assert records == []
    assert runtime is not None and runtime.consecutive_failures == 0  # not a failure either


async def test_no_database_connection_is_held_while_the_model_is_asked(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    trader = await _scheduled(api, token, llm, name="observed")
    # Who holds each checked-out connection: the app's background tasks (job runner,
    # paper monitor, price feed) share the engine and may hold one at any moment, so the
    # check is about the cycle's own tasks, not the pool's total.
    holders: dict[int, asyncio.Task[Any] | None] = {}
    pool = app.state.services.engine.sync_engine.pool

    def checked_out(_conn: Any, record: Any, _proxy: Any) -> None:
        holders[id(record)] = asyncio.current_task()

    def checked_in(_conn: Any, record: Any) -> None:
        holders.pop(id(record), None)

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    # The manual trigger's request runs in this test's task (in-process ASGI client);
    # scheduled cycles run in tasks named after their trader.
    this_test = asyncio.current_task()
    seen: list[int] = []

    async def look(_: RecordedRequest) -> None:
        cycle_holders = [
            task
            for task in holders.values()
            if task is this_test or (task is not None and task.get_name().startswith("trader-"))
        ]
        seen.append(len(cycle_holders))

    llm.on_request = look
    # A manual trigger (through the API, with its request session) and a scheduled cycle.
    response = await api.client.post(
        f"/api/account/{trader['id']}/trigger", headers=api.bearer(token)
    )
    assert response.status_code == 200 and response.json()["status"] == "ok"
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(StrategyRuntime).values(next_run_at=None))
        await session.commit()
    scheduler = scheduler_for(app)
    await scheduler.tick(utcnow())
    await scheduler.drain()
    assert len(await _decisions(api, token, trader["id"])) == 2
    assert seen == [0, 0]
