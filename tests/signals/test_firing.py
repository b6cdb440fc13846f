"""The signal runtime end to end: pools evaluated on a scripted market, edge-triggered
with a cooldown, logged, and each firing starting exactly one decision per bound trader,
whose record carries the fired signals as its trigger."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from hyperoru.app import create_app
from hyperoru.settings import Settings
from hyperoru.signals.domain import signal_runtime_for
from hyperoru.signals.runtime import SignalRuntime
from hyperoru.strategies.models import AccountStrategy
from hyperoru.timeutils import utcnow
from tests.conftest import running
from tests.helpers import Api
from tests.signals.market import CandleMarket
from tests.signals.paths import OVERSOLD_PATH, UPTICK
from tests.signals.test_api import user_story
from tests.signals.traders import decisions, quiet_trader


async def test_a_firing_starts_one_decision_per_bound_trader(
    world: tuple[FastAPI, Api, CandleMarket],
) -> None:
    app, api, market = world
    _, token = await api.user()
    _, stranger = await api.user()
    ids, pool = await user_story(api, token)
    or_pool = (
        await api.client.post(
            "/api/signals/pools",
            json={"name": "ETH either", "signal_ids": ids, "symbols": ["ETH"], "logic": "or"},
            headers=api.bearer(token),
        )
    ).json()

    by_strategy = await quiet_trader(api, token, "by strategy", [pool["id"]])
    by_binding = await quiet_trader(api, token, "by binding", [])
    by_both = await quiet_trader(api, token, "by both", [pool["id"]])
    unbound = await quiet_trader(api, token, "unbound", [])
    # Which strategy each trader runs: its binding on the pool wins over its own strategy.
    runs_through: dict[int, int | None] = {by_strategy["id"]: None}
    for trader in (by_binding, by_both):
        response = await api.client.post(
            "/api/bindings",
            json={"account_id": trader["id"], "signal_pool_ids": [pool["id"]]},
            headers=api.bearer(token),
        )
        assert response.status_code == 201
        runs_through[trader["id"]] = response.json()["id"]
    # Another user's trader cannot name the pool (403), and a row that does anyway
    # (written behind the API's back) is never started.
    foreign = await quiet_trader(api, stranger, "foreign", [])
    refused = await api.client.put(
        f"/api/account/{foreign['id']}/strategy",
        json={"signal_pool_ids": [pool["id"]]},
        headers=api.bearer(stranger),
    )
    assert refused.status_code == 403, refused.text
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(AccountStrategy)
            .where(AccountStrategy.account_id == foreign["id"])
            .values(signal_pool_ids=[pool["id"]])
        )
        await session.commit()

    runtime: SignalRuntime = signal_runtime_for(app)
    assert await runtime.tick() == []  # the first look is the baseline
    assert runtime.held == {pool["id"], or_pool["id"]}

    # ETH drops: RSI(14) is 0 on the live bar, so the OR pool fires on RSI alone; the AND
    # pool does not, since the price crossed its EMA downwards.
    await market.set("ETH", "2900")
    firings = await runtime.tick()
    assert [(f.pool_id, f.symbols) for f in firings] == [(or_pool["id"], ("ETH",))]
    assert [s["name"] for s in firings[0].values["signals"]] == ["RSI oversold"]
    assert firings[0].account_ids == ()

    # BTC ticks up through its EMA(50) with RSI(14) still under 30: the AND pool fires.
    await market.set("BTC", str(UPTICK))
    firings = await runtime.tick()
    assert [(f.pool_id, f.symbols) for f in firings] == [(pool["id"], ("BTC",))]
    bound = sorted(t["id"] for t in (by_strategy, by_binding, by_both))
    assert list(firings[0].account_ids) == bound
    assert {run.account_id: run.binding_id for run in firings[0].runs} == runs_through
    await runtime.drain()

    for trader in (by_strategy, by_binding, by_both):
        records = await decisions(api, token, trader["id"])
        assert len(records) == 1, trader["name"]
        assert records[0]["binding_id"] == runs_through[trader["id"]]
        trigger = records[0]["trigger"]
        assert trigger["type"] == "signal" and trigger["pool_id"] == pool["id"]
        signals = {s["name"]: s for s in trigger["values"]["signals"]}
        assert set(signals) == {"RSI oversold", "Price over EMA 50"}
        assert signals["RSI oversold"]["value"] < 30
        breakout = signals["Price over EMA 50"]
        assert breakout["value"] == pytest.approx(UPTICK)
        assert breakout["threshold"] == "ema_50"
        assert breakout["previous"] <= breakout["threshold_value"] < breakout["value"]
        assert trigger["values"]["symbols"] == ["BTC"]
        # The built-in template shows {trigger_context}: the model sees why it runs.
        rendered = records[0]["rendered_prompt"]
        assert "Trigger: signal" in rendered and "Price over EMA 50" in rendered
    assert await decisions(api, token, unbound["id"]) == []
    assert await decisions(api, stranger, foreign["id"]) == []

    # Still true on the next tick: no new edge, no new decision.
    assert await runtime.tick() == []
    log = await api.client.get(
        f"/api/signals/pools/{pool['id']}/triggers", headers=api.bearer(token)
    )
    assert [(t["symbols"], t["account_ids"]) for t in log.json()] == [(["BTC"], bound)]
    assert log.json()[0]["values"]["signals"]
    overview = await api.client.get(f"/api/signals/pools/{pool['id']}", headers=api.bearer(token))
    assert overview.json()["last_fired_at"] is not None


async def test_cooldown_holds_back_a_new_edge(world: tuple[FastAPI, Api, CandleMarket]) -> None:
    app, api, market = world
    _, token = await api.user()
    _ids, pool = await user_story(api, token)
    await api.client.put(
        f"/api/signals/pools/{pool['id']}",
        json={"cooldown_seconds": 600},
        headers=api.bearer(token),
    )
    runtime = signal_runtime_for(app)
    start = utcnow()
    assert await runtime.tick(start) == []
    await market.set("BTC", str(UPTICK))
    assert len(await runtime.tick(start + timedelta(seconds=1))) == 1

    async def edge(at: float) -> int:
        await market.set("BTC", str(OVERSOLD_PATH[-1]))
        assert await runtime.tick(start + timedelta(seconds=at)) == []
        await market.set("BTC", str(UPTICK))
        return len(await runtime.tick(start + timedelta(seconds=at + 1)))

    assert await edge(60) == 0  # a new edge inside the cooldown is dropped
    assert await edge(620) == 1  # and counts again once it is over
    log = await api.client.get(
        f"/api/signals/pools/{pool['id']}/triggers", headers=api.bearer(token)
    )
    assert len(log.json()) == 2


async def test_one_worker_evaluates_a_pool(world: tuple[FastAPI, Api, CandleMarket]) -> None:
    app, api, market = world
    _, token = await api.user()
    _, pool = await user_story(api, token)
    first, second = signal_runtime_for(app), signal_runtime_for(app)
    await first.tick()
    await second.tick()
    assert first.held == {pool["id"]} and second.held == frozenset()
    await market.set("BTC", str(UPTICK))
    assert len(await second.tick()) == 0
    assert len(await first.tick()) == 1
    await first.stop()  # releases its leases: the other worker takes over
    await second.tick()
    assert second.held == {pool["id"]}


async def test_the_embedded_runtime_runs_the_signal_task(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(runtime="embedded", runtime_tick_seconds=0.1))
    async with running(app):
        assert isinstance(app.state.signal_runtime, SignalRuntime)


async def test_a_quiet_tick_costs_the_same_statements_for_any_number_of_pools(
    world: tuple[FastAPI, Api, CandleMarket],
) -> None:
    """Per-tick database load is batched: pools, leases with evaluation state, and
    definitions are read in a fixed number of statements, and an unchanged pool writes
    nothing."""
    app, api, _market = world
    _, token = await api.user()
    ids, _pool = await user_story(api, token)
    runtime = signal_runtime_for(app)
    statements: list[str] = []

    ticking = asyncio.current_task()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Only the tick's own statements: the job runner polls the same engine meanwhile.
        if asyncio.current_task() is ticking:
            statements.append(statement)

    async def quiet_tick_statements() -> int:
        await runtime.tick()  # a baseline for any new pool: its condition is written
        statements.clear()
        event.listen(app.state.services.engine.sync_engine, "before_cursor_execute", count)
        try:
            assert await runtime.tick() == []
        finally:
            event.remove(app.state.services.engine.sync_engine, "before_cursor_execute", count)
        return len(statements)

    one_pool = await quiet_tick_statements()
    for n in range(9):
        response = await api.client.post(
            "/api/signals/pools",
            json={"name": f"copy {n}", "signal_ids": ids, "symbols": ["BTC", "ETH"]},
            headers=api.bearer(token),
        )
        assert response.status_code == 201
    ten_pools = await quiet_tick_statements()
    assert len(runtime.held) == 10
    assert ten_pools == one_pool
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "DELETE"))]
