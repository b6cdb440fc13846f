"""The scheduler: isolation between traders, pause after failures, one worker per trader."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy import select, update

from hyperoru.accounts.models import Account, AccountStrategy
from hyperoru.runtime.models import TraderRuntime
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.runtime.trigger import CycleOutcome, Trigger
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
    async with app.state.sessionmaker() as session:
        # The API's minimum interval is 30 s; the scheduler itself has no minimum.
        await session.execute(update(AccountStrategy).values(trigger_interval=interval))
        await session.commit()
    return ids


async def _run_for(scheduler: TraderScheduler, seconds: float) -> None:
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _recording(
    calls: Counter[int], slow: set[int] | None = None
) -> Callable[[int, Trigger], Awaitable[CycleOutcome]]:
    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        assert trigger.kind == "scheduled"
        calls[account_id] += 1
        if slow and account_id in slow:
            await asyncio.sleep(30)
        return CycleOutcome(ok=True)

    return cycle


async def test_a_slow_trader_never_delays_another(app: FastAPI, api: Api) -> None:
    slow_id, fast_id = await _traders(app, api, 2)
    calls: Counter[int] = Counter()
    scheduler = TraderScheduler(
        app.state.sessionmaker,
        _recording(calls, slow={slow_id}),
        tick_seconds=0.1,
        cycle_timeout_seconds=60,
    )
    await _run_for(scheduler, 5.0)
    assert calls[slow_id] == 1  # still stuck in its first cycle
    assert calls[fast_id] >= 3  # kept its 1-second schedule meanwhile


async def test_timeouts_count_as_failures_and_three_pause_the_trader(
    app: FastAPI, api: Api
) -> None:
    [trader_id] = await _traders(app, api, 1)

    async def hanging(account_id: int, trigger: Trigger) -> CycleOutcome:
        await asyncio.sleep(30)
        return CycleOutcome(ok=True)

    scheduler = TraderScheduler(
        app.state.sessionmaker, hanging, tick_seconds=0.05, cycle_timeout_seconds=0.2
    )
    await _run_for(scheduler, 6.0)
    async with app.state.sessionmaker() as session:
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

    scheduler = TraderScheduler(app.state.sessionmaker, flaky, tick_seconds=0.05)
    await _run_for(scheduler, 6.5)
    async with app.state.sessionmaker() as session:
        account = await session.get(Account, trader_id)
    assert account is not None and account.status == "active"


async def test_each_trader_runs_on_exactly_one_worker_and_moves_when_one_dies(
    app: FastAPI, api: Api
) -> None:
    trader_ids = await _traders(app, api, 3)
    calls_a: Counter[int] = Counter()
    calls_b: Counter[int] = Counter()
    worker_a = TraderScheduler(
        app.state.sessionmaker,
        _recording(calls_a),
        tick_seconds=0.1,
        lease_seconds=1.0,
        owner="worker-a",
    )
    worker_b = TraderScheduler(
        app.state.sessionmaker,
        _recording(calls_b),
        tick_seconds=0.1,
        lease_seconds=1.0,
        owner="worker-b",
    )
    task_a = asyncio.create_task(worker_a.run())
    await asyncio.sleep(0.3)  # A claims everything first
    task_b = asyncio.create_task(worker_b.run())
    await asyncio.sleep(2.5)
    assert set(calls_a) == set(trader_ids) and not calls_b
    assert worker_a.held == frozenset(trader_ids) and worker_b.held == frozenset()

    # Worker A dies without releasing anything (no clean shutdown).
    task_a.cancel()
    worker_a.stop = _noop  # type: ignore[method-assign]
    with contextlib.suppress(asyncio.CancelledError):
        await task_a
    await asyncio.sleep(2.5)  # its leases expire after 1 s
    task_b.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task_b
    assert set(calls_b) == set(trader_ids)
    async with app.state.sessionmaker() as session:
        owners = (await session.scalars(select(TraderRuntime.lease_owner))).all()
    assert set(owners) <= {"worker-b", None}


async def _noop() -> None:
    return None


async def test_resuming_a_paused_trader_restarts_the_count(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, name="resumable")
    await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"]},
        headers=api.bearer(token),
    )
    async with app.state.sessionmaker() as session:
        await session.execute(update(AccountStrategy).values(trigger_interval=1))
        await session.commit()
    outcomes = iter([False, False, False, False, True])

    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        ok = next(outcomes, True)
        return CycleOutcome(ok=ok, error=None if ok else "model returned 500")

    scheduler = TraderScheduler(app.state.sessionmaker, cycle, tick_seconds=0.05)
    await _run_for(scheduler, 3.5)
    paused = await api.client.get(f"/api/account/{trader['id']}", headers=api.bearer(token))
    assert paused.json()["status"] == "error"
    assert "last error: model returned 500" in paused.json()["status_reason"]

    resumed = await api.client.put(
        f"/api/account/{trader['id']}", json={"is_active": True}, headers=api.bearer(token)
    )
    assert resumed.json()["status"] == "active" and resumed.json()["status_reason"] is None
    await _run_for(scheduler, 2.5)  # one more failure, then successes: no second pause
    after = await api.client.get(f"/api/account/{trader['id']}", headers=api.bearer(token))
    assert after.json()["status"] == "active"
