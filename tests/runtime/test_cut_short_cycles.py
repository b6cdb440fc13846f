"""A cycle cut short is run again instead of waiting out its trader's interval, and never
by two workers at once:

- a worker that dies (or stalls) in the middle of a cycle: the worker that takes the
  trader over runs that cycle at once; the stalled one, when it wakes, stops its copy;
- a database that goes away under a cycle: not the trader's failure, due again soon;
- a worker that cannot renew its leases stops its cycles before another may take over.

Driven tick by tick with an explicit clock; "workers" are schedulers sharing one database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from hyperoru.runtime.models import StrategyRuntime, TraderRuntime
from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.strategies import cycle_guard
from hyperoru.strategies.models import AccountStrategy
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.helpers import Api

INTERVAL = 300  # seconds: long enough that no test below reaches a trader's next slot


async def _trader(app: FastAPI, api: Api) -> int:
    _, token = await api.user()
    trader = await create_trader(api, token, name="interrupted")
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC"], "scheduled_trigger_enabled": True},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(AccountStrategy).values(trigger_interval=INTERVAL))
        await session.commit()
    return int(trader["id"])


async def _marker(app: FastAPI) -> tuple[str | None, datetime | None, datetime | None]:
    async with app.state.services.sessionmaker() as session:
        [row] = (await session.execute(select(StrategyRuntime))).all()
    runtime = row[0]
    return runtime.running_owner, runtime.running_since, runtime.next_run_at


async def _failures(app: FastAPI, trader_id: int) -> int:
    async with app.state.services.sessionmaker() as session:
        runtime = await session.get(TraderRuntime, trader_id)
    assert runtime is not None
    return runtime.consecutive_failures


class Blocking:
    """A model that thinks until released, then asks whether it may still place orders
    (as the pipeline does under the trader's book lock)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.started: list[Trigger] = []
        self.release = asyncio.Event()
        self.placed = 0
        self.taken_over = 0
        self.cancelled = 0

    async def __call__(self, account_id: int, trigger: Trigger) -> CycleOutcome:
        self.started.append(trigger)
        try:
            await self.release.wait()
            async with self.sessions() as session:
                await cycle_guard.ensure_still_ours(session)
        except cycle_guard.TraderTakenOver:
            self.taken_over += 1
            return CycleOutcome(ok=True, ran=False)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.placed += 1
        return CycleOutcome(ok=True)


def _as_logged(at: datetime) -> str:
    return Trigger(kind="scheduled", at=at).as_dict()["at"]


def _quick(
    calls: list[Trigger],
) -> Callable[[int, Trigger], Awaitable[CycleOutcome]]:
    async def cycle(account_id: int, trigger: Trigger) -> CycleOutcome:
        calls.append(trigger)
        return CycleOutcome(ok=True)

    return cycle


async def _cycle_under_way_on_a(app: FastAPI) -> tuple[Blocking, TraderScheduler, datetime]:
    """Worker A (10 s leases) starts the trader's cycle, whose model then thinks."""
    sessions = app.state.services.sessionmaker
    model = Blocking(sessions)
    worker_a = TraderScheduler(sessions, model, lease_seconds=10, owner="worker-a")
    start = utcnow()
    await worker_a.tick(start)
    await asyncio.sleep(0)  # the cycle task starts and waits on its model
    assert [t.at for t in model.started] == [start]
    return model, worker_a, start


def _worker_b(app: FastAPI) -> tuple[list[Trigger], TraderScheduler]:
    calls: list[Trigger] = []
    worker = TraderScheduler(
        app.state.services.sessionmaker, _quick(calls), lease_seconds=10, owner="worker-b"
    )
    return calls, worker


async def test_a_finished_cycle_leaves_no_marker_and_waits_for_its_slot(
    app: FastAPI, api: Api
) -> None:
    await _trader(app, api)
    calls: list[Trigger] = []
    worker = TraderScheduler(app.state.services.sessionmaker, _quick(calls), owner="worker-a")
    start = utcnow()
    await worker.tick(start)
    await worker.drain()
    assert await _marker(app) == (None, None, start + timedelta(seconds=INTERVAL))
    for second in range(1, 10):
        await worker.tick(start + timedelta(seconds=second))
    assert [call.at for call in calls] == [start]


async def test_a_stalled_workers_cycle_runs_again_on_the_worker_that_takes_over(
    app: FastAPI, api: Api
) -> None:
    await _trader(app, api)
    stalled, worker_a, start = await _cycle_under_way_on_a(app)
    owner, since, _ = await _marker(app)
    assert (owner, since) == ("worker-a", start)

    # A stops ticking (its loop stalls) with the cycle under way; its lease runs out and
    # B takes the trader over: B runs the cycle now, not 300 s after A started it.
    calls_b, worker_b = _worker_b(app)
    await worker_b.tick(start + timedelta(seconds=9))  # A's lease still runs: nothing
    assert calls_b == []
    takeover = start + timedelta(seconds=11)
    await worker_b.tick(takeover)
    await worker_b.drain()
    assert [t.at for t in calls_b] == [takeover]
    assert await _marker(app) == (None, None, takeover + timedelta(seconds=INTERVAL))

    # A wakes up. Its model answers first: the cycle may not place (B holds the trader).
    stalled.release.set()
    await worker_a.drain()
    assert stalled.taken_over == 1 and stalled.placed == 0
    assert await _marker(app) == (None, None, takeover + timedelta(seconds=INTERVAL))
    # Its next tick finds the trader gone to B and starts nothing.
    assert await worker_a.tick(takeover + timedelta(seconds=1)) == []
    assert worker_a.held == frozenset() and worker_b.held != frozenset()


async def test_a_cycle_stopped_by_the_takeover_tick_is_run_by_the_new_holder(
    app: FastAPI, api: Api
) -> None:
    await _trader(app, api)
    stalled, worker_a, start = await _cycle_under_way_on_a(app)

    # This time A's next tick comes before its model answers: it sees the trader gone and
    # stops the cycle; B, which took it over, had already run it again.
    calls_b, worker_b = _worker_b(app)
    await worker_b.tick(start + timedelta(seconds=11))
    await worker_b.drain()
    assert len(calls_b) == 1
    await worker_a.tick(start + timedelta(seconds=12))
    await worker_a.drain()
    assert stalled.cancelled == 1 and stalled.placed == 0 and stalled.taken_over == 0


def _logged(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == event]


async def test_a_killed_workers_cycle_runs_again_when_the_trader_moves(
    app: FastAPI, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A `kill -9` in the middle of a cycle: nothing ends the cycle, its marker stays."""
    caplog.set_level(logging.INFO, logger="hyperoru.runtime")
    trader_id = await _trader(app, api)
    _, worker_a, start = await _cycle_under_way_on_a(app)
    # The process is gone: its task with it (cancelled without any clean-up of ours).
    for task in asyncio.all_tasks():
        if task.get_name() == f"trader-{trader_id}":
            task.cancel()
    await worker_a.drain()
    assert (await _marker(app))[0] == "worker-a"

    calls_b, worker_b = _worker_b(app)
    takeover = start + timedelta(seconds=11)
    await worker_b.tick(takeover)
    await worker_b.drain()
    assert [t.at for t in calls_b] == [takeover]
    # The log pairs the run with the cycle it replaces (bench/soak.py counts re-runs so).
    [again] = _logged(caplog, "cycle_run_again")
    assert (again.cut_short_at, again.trigger_at) == (_as_logged(start), _as_logged(takeover))
    # Once: the next ticks wait for the trader's next slot again.
    for second in range(12, 20):
        await worker_b.tick(start + timedelta(seconds=second))
    assert len(calls_b) == 1


async def test_a_cycle_cut_short_by_a_database_outage_is_not_a_failure_and_runs_again(
    app: FastAPI, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hyperoru.runtime")
    trader_id = await _trader(app, api)
    calls: list[Trigger] = []

    async def outage_then_fine(account_id: int, trigger: Trigger) -> CycleOutcome:
        calls.append(trigger)
        if len(calls) <= 4:  # what a dropped PostgreSQL connection looks like from a cycle
            raise ConnectionRefusedError(111, "Connection refused")
        return CycleOutcome(ok=True)

    worker = TraderScheduler(app.state.services.sessionmaker, outage_then_fine, owner="worker-a")
    start = utcnow()
    for second in range(0, 21):
        await worker.tick(start + timedelta(seconds=second))
        await worker.drain()
    # Every 5 s while the outage lasted, then back on its 300 s schedule.
    assert [(t.at - start).total_seconds() for t in calls] == [0, 5, 10, 15, 20]
    assert [r.trigger_at for r in _logged(caplog, "cycle_cut_short")] == [
        _as_logged(t.at) for t in calls[:4]
    ]
    assert await _failures(app, trader_id) == 0  # four outages never paused anything
    assert await _marker(app) == (None, None, calls[-1].at + timedelta(seconds=INTERVAL))


async def test_a_real_failure_still_counts_and_waits_for_its_slot(app: FastAPI, api: Api) -> None:
    trader_id = await _trader(app, api)
    calls: list[Trigger] = []

    async def broken(account_id: int, trigger: Trigger) -> CycleOutcome:
        calls.append(trigger)
        raise ValueError("a bug, not an outage")

    worker = TraderScheduler(app.state.services.sessionmaker, broken, owner="worker-a")
    start = utcnow()
    for second in range(0, 10):
        await worker.tick(start + timedelta(seconds=second))
        await worker.drain()
    assert len(calls) == 1
    assert await _failures(app, trader_id) == 1


class Switchable:
    """Sessions from the real database or, once ``cut()``, from one that cannot be opened:
    how a worker sees a database it can no longer reach."""

    def __init__(self, real: async_sessionmaker[AsyncSession], unreachable: Path) -> None:
        self.real = real
        self.broken = async_sessionmaker(
            create_async_engine(f"sqlite+aiosqlite:///{unreachable}/no/such/folder/x.db")
        )
        self.down = False

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.broken() if self.down else self.real()


@pytest.fixture
async def switchable(app: FastAPI, tmp_path: Path) -> AsyncIterator[Switchable]:
    sessions = Switchable(app.state.services.sessionmaker, tmp_path)
    yield sessions
    await sessions.broken.kw["bind"].dispose()


async def test_a_worker_that_cannot_renew_stops_its_cycles_before_its_lease_ends(
    app: FastAPI, api: Api, switchable: Switchable
) -> None:
    await _trader(app, api)
    thinking = Blocking(app.state.services.sessionmaker)
    worker = TraderScheduler(
        switchable,  # type: ignore[arg-type]
        thinking,
        lease_seconds=30,
        owner="worker-a",
    )
    start = utcnow()
    await worker.tick(start)
    await asyncio.sleep(0)
    switchable.down = True
    # Ticks fail while the database is away; for up to 2/3 of the lease the cycle goes on.
    for second in (1, 10, 19):
        with pytest.raises(Exception, match="unable to open database"):
            await worker.tick(start + timedelta(seconds=second))
        assert thinking.cancelled == 0
    with pytest.raises(Exception, match="unable to open database"):
        await worker.tick(start + timedelta(seconds=20))
    await worker.drain()
    assert thinking.cancelled == 1 and thinking.placed == 0
    assert worker.held == frozenset()

    # The database is back before anyone took the trader over: the same worker holds it
    # again and runs the stopped cycle at once.
    switchable.down = False
    thinking.release.set()
    back = start + timedelta(seconds=25)
    assert [t.at for t in await worker.tick(back)] == [back]
    await worker.drain()
    assert thinking.placed == 1
