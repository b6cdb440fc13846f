"""The scheduler: isolation between traders, pause after failures, one worker per trader.
Driven tick by tick with an explicit clock, so nothing here waits on the wall clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select, update

from hyperoru.accounts.models import Account
from hyperoru.runtime.models import TraderRuntime
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.strategies.models import AccountStrategy
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.helpers import Api


async def _traders(app: FastAPI, api: Api, count: int, interval: int = 1) -> list[int]:
    _, token = await api.user()
    ids = []
    for index in range(count):
        trader = await create_trader(api, token, name=f"trader {index}")
        response = await api.client.put(
            f"/api/account/{trader['id']}/strategy",
            json={"symbols": ["BTC"], "scheduled_trigger_enabled": True},
            headers=api.bearer(token),
        )
        assert response.status_code == 200, response.text
        ids.append(trader["id"])
    async with app.state.services.sessionmaker() as session:
        # The API's minimum interval is 30 s; the scheduler itself has no minimum.
        await session.execute(update(AccountStrategy).values(trigger_interval=interval))
        await session.commit()
    return ids


async def _ticks(scheduler: TraderScheduler, start: datetime, seconds: range) -> None:
    """Drive the scheduler with an explicit clock: one tick per second of ``seconds``,
    each followed by the cycles it started."""
    for second in seconds:
        await scheduler.tick(start + timedelta(seconds=second))
        await scheduler.drain()


def _recording(calls: Counter[int]) -> Callable[[int, Trigger], Awaitable[CycleOutcome]]:
    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        assert trigger.kind == "scheduled" and trigger.binding_id is None
        calls[account_id] += 1
        return CycleOutcome(ok=True)

    return cycle


async def test_a_slow_trader_never_delays_another(app: FastAPI, api: Api) -> None:
    slow_id, fast_id = await _traders(app, api, 2)
    calls: Counter[int] = Counter()
    unblock = asyncio.Event()
    fast_ran = asyncio.Event()

    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        calls[account_id] += 1
        if account_id == slow_id:
            await unblock.wait()  # a model that does not answer until told to
        else:
            fast_ran.set()
        return CycleOutcome(ok=True)

    scheduler = TraderScheduler(app.state.services.sessionmaker, cycle, cycle_timeout_seconds=60)
    start = utcnow()
    for second in range(3):
        fast_ran.clear()
        # The deadline only turns a scheduler that waits on the slow trader into a failure
        # instead of a hung test.
        await asyncio.wait_for(scheduler.tick(start + timedelta(seconds=second)), 30)
        await asyncio.wait_for(fast_ran.wait(), 30)
        # Its cycle is over only once its outcome is counted: then the next tick may start
        # it again (a tick skips a trader whose cycle is still running).
        await asyncio.wait_for(scheduler.drain([fast_id]), 30)
    assert calls[fast_id] == 3  # kept its 1-second schedule meanwhile
    assert calls[slow_id] == 1  # still stuck in its first cycle: never started twice
    unblock.set()
    await scheduler.drain()


async def test_timeouts_count_as_failures_and_three_pause_the_trader(
    app: FastAPI, api: Api
) -> None:
    [trader_id] = await _traders(app, api, 1)

    async def hanging(account_id: int, trigger: Trigger) -> CycleOutcome:
        await asyncio.Event().wait()
        return CycleOutcome(ok=True)

    scheduler = TraderScheduler(app.state.services.sessionmaker, hanging, cycle_timeout_seconds=0.1)
    await _ticks(scheduler, utcnow(), range(6))
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader_id)
        runtime = await session.get(TraderRuntime, trader_id)
    assert account is not None and runtime is not None
    assert account.status == "error"
    assert "3 failed cycles" in (account.status_reason or "")
    assert "timed out" in (account.status_reason or "")
    assert runtime.consecutive_failures == 3  # paused traders are not run again


async def test_a_success_resets_the_failure_count(app: FastAPI, api: Api) -> None:
    [trader_id] = await _traders(app, api, 1)
    outcomes = iter([False, False, True, False, False, True])

    async def flaky(account_id: int, trigger: Trigger) -> CycleOutcome:
        ok = next(outcomes, True)
        return CycleOutcome(ok=ok, error=None if ok else "model returned 500")

    scheduler = TraderScheduler(app.state.services.sessionmaker, flaky)
    await _ticks(scheduler, utcnow(), range(7))
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader_id)
    assert account is not None and account.status == "active"


async def test_each_trader_runs_on_exactly_one_worker_and_moves_when_one_dies(
    app: FastAPI, api: Api
) -> None:
    trader_ids = await _traders(app, api, 3)
    calls_a: Counter[int] = Counter()
    calls_b: Counter[int] = Counter()
    worker_a = TraderScheduler(
        app.state.services.sessionmaker, _recording(calls_a), lease_seconds=1.0, owner="worker-a"
    )
    worker_b = TraderScheduler(
        app.state.services.sessionmaker, _recording(calls_b), lease_seconds=1.0, owner="worker-b"
    )
    start = utcnow()
    await _ticks(worker_a, start, range(1))  # A claims everything first
    for second in range(1, 3):
        await _ticks(worker_b, start, range(second, second + 1))
        await _ticks(worker_a, start, range(second, second + 1))
    assert calls_a == Counter({trader_id: 3 for trader_id in trader_ids}) and not calls_b
    assert worker_a.held == frozenset(trader_ids) and worker_b.held == frozenset()

    # Worker A dies without releasing anything (no clean shutdown): once its leases have
    # expired (1 s), B takes every trader over.
    await _ticks(worker_b, start, range(4, 6))
    assert calls_b == Counter({trader_id: 2 for trader_id in trader_ids})
    assert worker_b.held == frozenset(trader_ids)
    async with app.state.services.sessionmaker() as session:
        owners = (await session.scalars(select(TraderRuntime.lease_owner))).all()
    assert set(owners) == {"worker-b"}


async def test_resuming_a_paused_trader_restarts_the_count(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, name="resumable")
    await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"]},
        headers=api.bearer(token),
    )
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(AccountStrategy).values(trigger_interval=1))
        await session.commit()
    outcomes = iter([False, False, False, False, True])

    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        ok = next(outcomes, True)
        return CycleOutcome(ok=ok, error=None if ok else "model returned 500")

    scheduler = TraderScheduler(app.state.services.sessionmaker, cycle)
    start = utcnow()
    await _ticks(scheduler, start, range(5))
    paused = await api.client.get(f"/api/account/{trader['id']}", headers=api.bearer(token))
    assert paused.json()["status"] == "error"
    assert "last error: model returned 500" in paused.json()["status_reason"]

    resumed = await api.client.put(
        f"/api/account/{trader['id']}", json={"is_active": True}, headers=api.bearer(token)
    )
    assert resumed.json()["status"] == "active" and resumed.json()["status_reason"] is None
    await _ticks(scheduler, start, range(5, 8))  # one more failure, then successes
    after = await api.client.get(f"/api/account/{trader['id']}", headers=api.bearer(token))
    assert after.json()["status"] == "active"  # no second pause
