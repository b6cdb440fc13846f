"""The scaled shape as an operator runs it: two API processes (A and B, each `hyperoru
serve` on its own port, runtime off) and two `hyperoru worker` processes, on one
PostgreSQL and one Redis. Together they behave as one server:

- the login budget is one budget: A and B together let exactly the configured number in;
- a WebSocket client on A sees a fill made through B;
- each trader runs on one worker at a time: every cycle is started by exactly one worker
  (each worker logs the cycles it runs, ``metrics/observers.py``), every recorded decision
  is one of them, a trader's cycles never overlap, and a trader moves to the other worker
  only when its worker dies;
- a worker killed with ``kill -9`` has its traders continued by the other once the leases
  run out.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from websockets.asyncio.client import connect

from hyperoru.strategies.models import AccountStrategy
from tests.e2e.server import RunningServer, RunningWorker, scaled_env, serve, worker
from tests.helpers import STRONG_PASSWORD
from tests.realtime.conftest import ask, receive

LOGINS_PER_MINUTE = 6
TRADERS = 3
LEASE_SECONDS = 4  # how long a dead worker's traders wait; ticks are 16 times as often
DEADLINE_SECONDS = 40.0
T = TypeVar("T")  # a generous bound for each wait: the test never sleeps a fixed time


def _enter_together(stack: ExitStack, *managers: AbstractContextManager[T]) -> list[T]:
    """Start several processes side by side (each start waits for its process to be ready;
    the migrations at start-up take a lock, so they run one at a time anyway)."""
    with ThreadPoolExecutor(len(managers)) as pool:
        entering = [pool.submit(manager.__enter__) for manager in managers]
    for manager, entered in zip(managers, entering, strict=True):
        if entered.exception() is None:
            stack.push(manager.__exit__)
    return [entered.result() for entered in entering]


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def _until(what: str, check: Any) -> Any:
    """Poll ``check`` (an async callable) until it answers something truthy."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (found := await check()):
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.2)
    return found


async def _owners(engine: AsyncEngine) -> dict[int, int | None]:
    """Each trader's lease holder, as its process id."""
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT account_id, lease_owner FROM trader_runtime"))
        return {row[0]: int(row[1].split(":")[1]) if row[1] else None for row in rows}


async def _decisions(engine: AsyncEngine) -> list[tuple[int, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT account_id, trigger FROM decision_records ORDER BY id")
        )
        return [
            (row[0], row[1] if isinstance(row[1], dict) else json.loads(row[1])) for row in rows
        ]


def _cycle_lines(running: RunningWorker) -> list[dict[str, Any]]:
    lines = []
    for line in running.logs().splitlines():
        if line.startswith("{") and '"event": "cycle_' in line:
            parsed = json.loads(line)
            if parsed["event"] in ("cycle_started", "cycle_ended"):
                lines.append(parsed)
    return lines


async def _limited_logins(a: RunningServer, b: RunningServer) -> str:
    """Twice the budget of logins, alternating between A and B: exactly the budget gets in,
    half through each (per-process budgets would have let every one in). Answers a token."""
    body = {"username": "operator", "password": STRONG_PASSWORD}
    async with httpx.AsyncClient(timeout=30) as http:
        registered = await http.post(f"{a.base_url}/api/users/register", json=body)
        assert registered.status_code == 201, registered.text
        answers = []
        for attempt in range(2 * LOGINS_PER_MINUTE):
            server = (a, b)[attempt % 2]
            answers.append(await http.post(f"{server.base_url}/api/users/login", json=body))
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * LOGINS_PER_MINUTE + [429] * LOGINS_PER_MINUTE, statuses
    assert {answer.json()["code"] for answer in answers[LOGINS_PER_MINUTE:]} == {"RATE_LIMITED"}
    return answers[0].json()["session_token"]


async def _traders(b: RunningServer, auth: dict[str, str], engine: AsyncEngine) -> list[int]:
    ids = []
    async with httpx.AsyncClient(base_url=b.base_url, headers=auth, timeout=30) as http:
        for index in range(TRADERS):
            created = await http.post(
                "/api/account/", json={"name": f"scaled-{index}", "llm_provider": "builtin"}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
            strategy = await http.put(f"/api/account/{ids[-1]}/strategy", json={"symbols": ["BTC"]})
            assert strategy.status_code == 200, strategy.text
    # Every second: below what the API accepts, so set behind its back.
    async with engine.begin() as connection:
        await connection.execute(update(AccountStrategy).values(trigger_interval=1))
    return ids


async def _fill_through_b_seen_on_a(
    a: RunningServer, b: RunningServer, token: str, account_id: int
) -> None:
    ws_url = a.base_url.replace("http://", "ws://") + "/ws"
    async with connect(f"{ws_url}?session_token={token}") as on_a:
        assert (await receive(on_a))["type"] == "connected"
        subscribed = await ask(on_a, {"type": "subscribe", "data": {"channels": ["trades"]}})
        assert subscribed["type"] == "subscribed", subscribed
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=b.base_url, headers=auth, timeout=30) as http:
            order = await http.post(
                "/api/orders/create",
                json={"account_id": account_id, "symbol": "BTC", "side": "buy",
                      "order_type": "market", "quantity": 0.01},
            )  # fmt: skip
            assert order.status_code == 201, order.text
            executed = await http.post(f"/api/orders/execute/{order.json()['id']}")
            assert executed.json()["execution_status"] == "filled", executed.text
        async with asyncio.timeout(DEADLINE_SECONDS):
            while (message := await receive(on_a))["type"] != "trade_update":
                pass
    assert (message["account_id"], message["data"]["order_id"]) == (
        account_id, order.json()["id"]
    )  # fmt: skip


def _check_one_worker_at_a_time(
    starts: dict[tuple[int, str], list[dict[str, Any]]],
    ends: dict[tuple[int, str], dict[str, Any]],
    *,
    victim: int,
    killed_at: datetime,
) -> None:
    # No cycle was started twice (by two workers, or twice by one).
    assert all(len(lines) == 1 for lines in starts.values()), starts
    by_trader: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for (account_id, _), (line,) in starts.items():
        by_trader[account_id].append(line)
    for account_id, lines in by_trader.items():
        lines.sort(key=lambda line: line["trigger_at"])
        workers = [line["pid"] for line in lines]
        # One worker until its lease was lost (to the kill), then the other for good.
        changes = [i for i in range(1, len(workers)) if workers[i] != workers[i - 1]]
        assert len(changes) <= 1, (account_id, workers)
        if changes:
            assert workers[0] == victim, (account_id, workers)
            assert _when(lines[changes[0]]["ts"]) > killed_at, (account_id, lines)
        # A trader's cycles never overlap: each starts after the one before ended (a
        # cycle the kill cut short ended with the kill).
        previous_end: datetime | None = None
        for line in lines:
            begun = _when(line["ts"])
            if previous_end is not None:
                assert begun >= previous_end, (account_id, line)
            end = ends.get((account_id, line["trigger_at"]))
            previous_end = _when(end["ts"]) if end is not None else killed_at


async def test_two_api_processes_and_two_workers_act_as_one_server(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    shared = scaled_env(postgres_url, redis_url, RATE_LIMIT_AUTH_PER_MINUTE=str(LOGINS_PER_MINUTE))
    api_env = {**shared, "HYPERORU_RUNTIME": "off"}
    worker_env = {
        **shared,
        "HYPERORU_RUNTIME_TICK_SECONDS": str(LEASE_SECONDS / 16),
        "HYPERORU_RUNTIME_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    engine = create_async_engine(postgres_url)
    try:
        with ExitStack() as processes:
            a, b = _enter_together(
                processes, serve(tmp_path / "a", api_env), serve(tmp_path / "b", api_env)
            )
            token = await _limited_logins(a, b)
            ids = await _traders(b, {"Authorization": f"Bearer {token}"}, engine)
            await _fill_through_b_seen_on_a(a, b, token, ids[0])

            first, second = _enter_together(
                processes, worker(tmp_path / "w1", worker_env), worker(tmp_path / "w2", worker_env)
            )
            by_pid = {first.process.pid: first, second.process.pid: second}

            async def each_trader_decided_twice() -> bool:
                counts = defaultdict(int)
                for account_id, _ in await _decisions(engine):
                    counts[account_id] += 1
                return all(counts[i] >= 2 for i in ids)

            await _until("every trader decides", each_trader_decided_twice)
            owners = await _owners(engine)
            assert set(owners) == set(ids) and set(owners.values()) <= set(by_pid), owners

            victim = owners[ids[0]]
            assert victim is not None
            survivor = next(pid for pid in by_pid if pid != victim)
            orphans = [i for i in ids if owners[i] == victim]
            os.kill(victim, signal.SIGKILL)
            by_pid[victim].process.wait()
            killed_at = datetime.now(UTC)

            async def orphans_decided_again() -> bool:
                decided = {
                    account_id
                    for account_id, trigger in await _decisions(engine)
                    if _when(trigger["at"]) > killed_at
                }
                owners = await _owners(engine)
                return set(orphans) <= decided and all(o == survivor for o in owners.values())

            await _until("the survivor takes the orphans over", orphans_decided_again)
            decisions = await _decisions(engine)
        # Every process has stopped: the survivor's log is complete.

        starts: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        ends: dict[tuple[int, str], dict[str, Any]] = {}
        for running in (first, second):
            for line in _cycle_lines(running):
                key = (line["account_id"], line["trigger_at"])
                if line["event"] == "cycle_started":
                    starts[key].append(line)
                else:
                    ends[key] = line
        assert {line["pid"] for lines in starts.values() for line in lines} == {victim, survivor}
        # Every recorded decision was a cycle one worker (and only one) started.
        for account_id, trigger in decisions:
            assert trigger["type"] == "scheduled"
            assert len(starts[(account_id, trigger["at"])]) == 1, (account_id, trigger)
        _check_one_worker_at_a_time(starts, ends, victim=victim, killed_at=killed_at)
    finally:
        await engine.dispose()
