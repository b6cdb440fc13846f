"""The scaled shape: an API process and two `hyperoru worker` processes on PostgreSQL.
Each trader is run by exactly one worker; when that worker is killed (no clean shutdown)
another takes its traders over once the lease expires."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine

from hyperoru.strategies.models import AccountStrategy
from tests.e2e.server import serve, worker
from tests.helpers import STRONG_PASSWORD


async def _owners(engine) -> dict[int, str | None]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT account_id, lease_owner FROM trader_runtime"))
        return {row[0]: row[1] for row in rows}


def _pid(owner: str) -> int:
    return int(owner.split(":")[1])


async def test_each_trader_on_one_worker_and_taken_over_after_a_kill(
    postgres_url: str, tmp_path: Path
) -> None:
    shared = {"HYPERORU_DATABASE_URL": postgres_url, "HYPERORU_SECRET_KEY": "k" * 40}
    runtime = {
        **shared,
        "HYPERORU_RUNTIME_TICK_SECONDS": "0.2",
        "HYPERORU_RUNTIME_LEASE_SECONDS": "2",
    }
    engine = create_async_engine(postgres_url)
    try:
        with serve(tmp_path / "api", {**shared, "HYPERORU_RUNTIME": "off"}) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
                await http.post(
                    "/api/users/register", json={"username": "scaled", "password": STRONG_PASSWORD}
                )
                login = await http.post(
                    "/api/users/login", json={"username": "scaled", "password": STRONG_PASSWORD}
                )
                headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
                ids = []
                for index in range(3):
                    trader = await http.post(
                        "/api/account/",
                        headers=headers,
                        json={"name": f"t{index}", "llm_provider": "builtin"},
                    )
                    ids.append(trader.json()["id"])
                    await http.put(
                        f"/api/account/{ids[-1]}/strategy",
                        headers=headers,
                        json={"symbols": ["BTC"]},
                    )
            async with engine.begin() as connection:
                await connection.execute(update(AccountStrategy).values(trigger_interval=1))

            with (
                worker(tmp_path / "w1", runtime) as first,
                worker(tmp_path / "w2", runtime) as second,
            ):
                pids = {first.process.pid, second.process.pid}
                deadline = time.monotonic() + 30
                owners = await _owners(engine)
                while not (len(owners) == 3 and all(owners.values())):
                    assert time.monotonic() < deadline, owners
                    await asyncio.sleep(0.2)
                    owners = await _owners(engine)
                assert {_pid(o) for o in owners.values() if o} <= pids

                # Kill the worker holding the first trader, without any clean-up.
                victim = _pid(owners[ids[0]])
                survivor = (pids - {victim}).pop()
                os.kill(victim, signal.SIGKILL)
                deadline = time.monotonic() + 30
                while True:
                    owners = await _owners(engine)
                    if all(o and _pid(o) == survivor for o in owners.values()):
                        break
                    assert time.monotonic() < deadline, owners
                    await asyncio.sleep(0.2)

                # The survivor keeps deciding for the orphaned trader: a new decision
                # appears (waited for with a deadline, not a fixed sleep, so a loaded
                # machine that runs the 1 s schedule late still passes).
                async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
                    url = f"/api/account/{ids[0]}/decisions"
                    before = len((await http.get(url, headers=headers)).json())
                    deadline = time.monotonic() + 30
                    while len((await http.get(url, headers=headers)).json()) <= before:
                        assert time.monotonic() < deadline, "no decision after the takeover"
                        await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
