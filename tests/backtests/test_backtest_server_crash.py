"""``kill -9`` of a real server in the middle of a backtest that spins for ever: its
sandbox process dies with it, the restarted server hands the job back at once (not when
the lease runs out) and runs it again, and a cancel kills that run's process."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from hyperoru.programs.sandbox.configured import RUN_RECORDS_FOLDER
from hyperoru.programs.sandbox.launcher import BACKTEST_RUNNER
from tests.backtests.support import END, START
from tests.e2e.server import serve
from tests.helpers import STRONG_PASSWORD
from tests.market.waiting import eventually
from tests.programs.test_no_orphans import read_records, running

SPIN = "class Strategy:\n    def should_trade(self, data):\n        while True:\n            pass\n"
ENV = {
    "HYPERORU_RUNTIME": "off",
    # Only a hand-back at start-up can requeue the job within this test.
    "HYPERORU_JOBS_LEASE_SECONDS": "600",
    "HYPERORU_BACKTEST_CPU_SECONDS": "600",
    "HYPERORU_BACKTEST_WALL_SECONDS": "600",
}


def _sandboxes_of(server_pid: int) -> list[int]:
    """This worktree's backtest sandbox processes whose parent is ``server_pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ours = int(fields[1]) == server_pid and str(BACKTEST_RUNNER).encode() in command
        if ours and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _job(data: Path, job_id: int) -> tuple[str, int]:
    with sqlite3.connect(data / "hyperoru.db") as db:
        status, attempts = db.execute(
            "SELECT status, attempts FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
    return status, attempts


async def _running_child(data: Path) -> dict[str, Any]:
    """The record of the one sandbox process running now (waits for it)."""

    async def records() -> list[dict[str, Any]]:
        found = read_records(data / RUN_RECORDS_FOLDER)
        return [r for r in found if running(r["pid"], r["started"])]

    [record] = await eventually(records, lambda found: len(found) == 1, attempts=1200)
    return record


async def test_kill_9_during_a_backtest_leaves_no_sandbox_and_the_job_comes_back(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with serve(data, ENV) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            await http.post(
                "/api/users/register", json={"username": "crash", "password": STRONG_PASSWORD}
            )
            login = await http.post(
                "/api/users/login", json={"username": "crash", "password": STRONG_PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
            program = await http.post(
                "/api/programs/", headers=headers, json={"name": "spin", "code": SPIN}
            )
            body = {
                "program_id": program.json()["id"],
                "config": {"symbols": ["BTC"], "start_date": START, "end_date": END},
            }
            submitted = await http.post("/api/backtests", headers=headers, json=body)
            assert submitted.status_code == 202, submitted.text
            job_id = submitted.json()["id"]
            first = await _running_child(data)
            assert first["tag"]["job_id"] == job_id
            assert _sandboxes_of(server.process.pid) == [first["pid"]]

            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()

        async def orphan_alive() -> bool:
            return running(first["pid"], first["started"])

        # Died with its server: no process left spinning as nobody under PID 1.
        await eventually(orphan_alive, lambda alive: not alive, attempts=200)
        assert _job(data, job_id) == ("running", 1)  # what the dead server left

    with serve(data, ENV) as again:
        async with httpx.AsyncClient(base_url=again.base_url, timeout=30) as http:
            login = await http.post(
                "/api/users/login", json={"username": "crash", "password": STRONG_PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
            # Handed back at start-up and taken again: a second attempt, a new process.
            second = await _running_child(data)
            assert second["pid"] != first["pid"] and second["owner_pid"] == again.process.pid
            assert _job(data, job_id) == ("running", 2)

            cancelled = await http.delete(f"/api/backtests/{job_id}", headers=headers)
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

            # The record is removed just after the killed process is reaped (and a
            # zombie is already gone from the list): wait for both, not one.
            async def left() -> tuple[list[int], list[Path]]:
                records = sorted((data / RUN_RECORDS_FOLDER).glob("*.json"))
                return _sandboxes_of(again.process.pid), records

            await eventually(left, lambda found: found == ([], []), attempts=200)
            assert not running(second["pid"], second["started"])
            assert _job(data, job_id)[0] == "cancelled"
