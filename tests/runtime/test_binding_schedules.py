"""Scheduled bindings: each runs on its own clock next to the trader's primary strategy,
through the same trader lease (one worker per trader), and only while both the binding
and its trader may run. The scheduler is driven tick by tick with an explicit clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, update

from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.signals.models import StrategyBinding
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.helpers import Api


class Recorder:
    """A cycle runner that notes which strategy ran when (seconds after ``start``)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.runs: list[tuple[int, int, int | None]] = []

    async def __call__(self, account_id: int, trigger: Trigger) -> CycleOutcome:
        assert trigger.kind == "scheduled"
        seconds = int((trigger.at - self.start).total_seconds())
        self.runs.append((seconds, account_id, trigger.binding_id))
        return CycleOutcome(ok=True)


async def _scheduled_trader(api: Api, token: str, interval: int) -> dict[str, Any]:
    trader = await create_trader(api, token, llm_provider="builtin")
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"], "scheduled_trigger_enabled": True, "trigger_interval": interval},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    return trader


async def _binding(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    response = await api.client.post("/api/bindings", json=fields, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def _ticks(scheduler: TraderScheduler, start: datetime, seconds: range) -> None:
    for second in seconds:
        await scheduler.tick(start + timedelta(seconds=second))
        await scheduler.drain()


async def test_each_scheduled_binding_runs_on_its_own_clock(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await _scheduled_trader(api, token, interval=150)
    every_minute = await _binding(
        api, token, account_id=trader["id"], scheduled_trigger_enabled=True, trigger_interval=60
    )
    # Never run: switched off, or listening to signals only.
    await _binding(
        api,
        token,
        account_id=trader["id"],
        scheduled_trigger_enabled=True,
        trigger_interval=30,
        is_active=False,
    )
    await _binding(api, token, account_id=trader["id"], trigger_interval=30)
    start = utcnow()
    recorder = Recorder(start)
    scheduler = TraderScheduler(app.state.services.sessionmaker, recorder)

    await _ticks(scheduler, start, range(0, 301, 30))

    primary, minute = None, every_minute["id"]
    assert [(s, b) for s, _, b in recorder.runs] == [
        (0, primary),
        (0, minute),
        (60, minute),
        (120, minute),
        (150, primary),
        (180, minute),
        (240, minute),
        (300, primary),
        (300, minute),
    ]
    assert {account for _, account, _ in recorder.runs} == {trader["id"]}

    # Switching the primary schedule off leaves the binding's clock alone, and the other
    # way round.
    await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"scheduled_trigger_enabled": False},
        headers=api.bearer(token),
    )
    recorder.runs.clear()
    await _ticks(scheduler, start, range(330, 451, 30))
    assert [(s, b) for s, _, b in recorder.runs] == [(360, minute), (420, minute)]
    # A new interval starts at once (not after the old next run time), then repeats.
    changed = await api.client.put(
        f"/api/bindings/{minute}", json={"trigger_interval": 90}, headers=api.bearer(token)
    )
    assert changed.status_code == 200
    recorder.runs.clear()
    await _ticks(scheduler, start, range(450, 631, 30))
    assert [(s, b) for s, _, b in recorder.runs] == [(450, minute), (540, minute), (630, minute)]
    await api.client.put(
        f"/api/bindings/{minute}", json={"is_active": False}, headers=api.bearer(token)
    )
    recorder.runs.clear()
    await _ticks(scheduler, start, range(660, 781, 30))
    assert recorder.runs == []
    assert scheduler.held == frozenset()  # nothing left to run: the lease is let go


async def test_bindings_of_traders_that_may_not_run_never_run(app: FastAPI, api: Api) -> None:
    me, token = await api.user()
    _, stranger = await api.user()
    paused = await create_trader(api, token, name="paused", llm_provider="builtin")
    deleted = await create_trader(api, token, name="deleted", llm_provider="builtin")
    smuggled = await create_trader(api, stranger, name="stranger's", llm_provider="builtin")
    running = await create_trader(api, token, name="running", llm_provider="builtin")
    bindings = {
        trader["id"]: await _binding(
            api,
            token if trader is not smuggled else stranger,
            account_id=trader["id"],
            scheduled_trigger_enabled=True,
            trigger_interval=30,
        )
        for trader in (paused, deleted, smuggled, running)
    }
    h = api.bearer(token)
    assert (
        await api.client.put(f"/api/account/{paused['id']}", json={"is_active": False}, headers=h)
    ).json()["status"] == "paused"
    assert (await api.client.delete(f"/api/account/{deleted['id']}", headers=h)).status_code == 204
    # A binding row that names another user's trader (written behind the API's back).
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(StrategyBinding)
            .where(StrategyBinding.id == bindings[smuggled["id"]]["id"])
            .values(user_id=me["id"])
        )
        await session.commit()
    start = utcnow()
    recorder = Recorder(start)
    await _ticks(
        TraderScheduler(app.state.services.sessionmaker, recorder), start, range(0, 61, 30)
    )
    assert recorder.runs == [(s, running["id"], bindings[running["id"]]["id"]) for s in (0, 30, 60)]


async def test_a_binding_runs_on_the_worker_holding_its_trader(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="builtin")
    binding = await _binding(
        api, token, account_id=trader["id"], scheduled_trigger_enabled=True, trigger_interval=30
    )
    start = utcnow()
    first, second = Recorder(start), Recorder(start)
    worker_a = TraderScheduler(app.state.services.sessionmaker, first, owner="worker-a")
    worker_b = TraderScheduler(
        app.state.services.sessionmaker, second, owner="worker-b", lease_seconds=30
    )
    for seconds in (0, 30):
        for worker in (worker_a, worker_b):
            await _ticks(worker, start, range(seconds, seconds + 1))
    assert first.runs == [(0, trader["id"], binding["id"]), (30, trader["id"], binding["id"])]
    assert second.runs == [] and worker_b.held == frozenset()
    # Worker A dies (no release): once its lease has expired, B takes the binding over.
    await _ticks(worker_b, start, range(100, 101))
    assert second.runs == [(100, trader["id"], binding["id"])]


async def test_one_query_reads_every_scheduled_strategy(app: FastAPI, api: Api) -> None:
    """Primary strategies and bindings are one model: a tick reads all of them, with their
    clocks, in one statement, however many traders and bindings there are."""
    _, token = await api.user()
    scheduler = TraderScheduler(app.state.services.sessionmaker, Recorder(utcnow()))

    async def read_statements() -> list[str]:
        statements: list[str] = []
        reading = asyncio.current_task()

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if asyncio.current_task() is reading and "trader_strategies" in statement:
                statements.append(statement)

        event.listen(app.state.services.engine.sync_engine, "before_cursor_execute", count)
        try:
            due = await scheduler.read(utcnow())
        finally:
            event.remove(app.state.services.engine.sync_engine, "before_cursor_execute", count)
        return [f"{len(due)} due", *statements]

    first = await _scheduled_trader(api, token, interval=150)
    await _binding(api, token, account_id=first["id"], scheduled_trigger_enabled=True)
    one = await read_statements()
    assert one[0] == "2 due" and len(one) == 2
    for _ in range(3):
        trader = await _scheduled_trader(api, token, interval=150)
        for _ in range(2):
            await _binding(api, token, account_id=trader["id"], scheduled_trigger_enabled=True)
    many = await read_statements()
    assert many[0] == "11 due" and many[1:] == one[1:]
