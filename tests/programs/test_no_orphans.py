"""Sandbox processes never outlive the server that started them: they die with it
(``lifeline``), and what escapes that is killed by the next server's sweep
(``run_records``). Real processes, killed with SIGKILL; no app, no database.

The whole-server version (``kill -9`` of ``hyperoru serve`` during a backtest, the
restart handing the job back) is tests/backtests/test_backtest_server_crash.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperoru.programs.sandbox.run_records import RunRecords, start_ticks
from tests.market.waiting import eventually


def running(pid: int, started: int) -> bool:
    """The process that started at ``started`` still runs (a zombie has stopped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[19]) == started and fields[0] not in ("Z", "X")


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _start(spawned: list[subprocess.Popen[bytes]], code: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    spawned.append(process)
    return process


def read_records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in folder.glob("*.json")] if folder.is_dir() else []


async def _running_record(folder: Path, server: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The record of the stand-in server's one child, once that child runs."""

    async def records() -> list[dict[str, Any]]:
        if server.poll() is not None:
            assert server.stderr is not None
            pytest.fail(f"the stand-in server stopped: {server.stderr.read().decode()}")
        return read_records(folder)

    [record] = await eventually(
        records,
        lambda found: len(found) == 1 and running(found[0]["pid"], found[0]["started"]),
        attempts=600,
    )
    return record


async def test_a_sandbox_process_dies_with_its_server(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "runs"
    # A stand-in server: one sandbox run of a program that spins for ever.
    server = _start(
        spawned,
        f"""
        import asyncio
        from pathlib import Path
        from hyperoru.programs.sandbox.launcher import Sandbox, SandboxLimits
        from hyperoru.programs.sandbox.run_records import RunRecords

        SPIN = "class Strategy:\\n    def should_trade(self, data):\\n        while True: pass\\n"
        box = Sandbox(
            SandboxLimits(wall_seconds=600, cpu_seconds=600),
            records=RunRecords(Path({str(folder)!r})),
        )
        asyncio.run(box.run(SPIN, data={{}}))
        """,
    )
    record = await _running_record(folder, server)
    child, started = record["pid"], record["started"]
    assert record["owner_pid"] == server.pid
    await asyncio.sleep(0.5)
    assert running(child, started)  # spinning in the sandbox

    os.kill(server.pid, signal.SIGKILL)
    server.wait()

    async def alive() -> bool:
        return running(child, started)

    await eventually(alive, lambda still: not still, attempts=200)
    # What it left is only the record, which the next server's sweep removes.
    assert RunRecords(folder).reap() == [{}]
    assert list(folder.glob("*.json")) == []


async def test_a_process_that_outlived_its_server_is_killed_by_the_sweep(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "runs"
    # A stand-in server whose child does NOT die with it (as if it had escaped and
    # cleared its parent-death signal): only the record can find it.
    server = _start(
        spawned,
        f"""
        import subprocess, sys, time
        from pathlib import Path
        from hyperoru.programs.sandbox.run_records import RunRecords

        child = subprocess.Popen(
            [sys.executable, "-c", "while True: pass"], start_new_session=True
        )
        RunRecords(Path({str(folder)!r})).add(child.pid, {{"job_id": 7, "lease_owner": "w"}})
        time.sleep(600)
        """,
    )
    record = await _running_record(folder, server)
    child, started = record["pid"], record["started"]
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    await asyncio.sleep(0.2)
    assert running(child, started)  # an orphan, spinning on

    assert RunRecords(folder).reap() == [{"job_id": 7, "lease_owner": "w"}]

    async def alive() -> bool:
        return running(child, started)

    await eventually(alive, lambda still: not still, attempts=200)
    assert list(folder.glob("*.json")) == []


def test_the_sweep_leaves_a_live_servers_processes_alone(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "runs"
    child = _start(spawned, "import time; time.sleep(600)")
    started = start_ticks(child.pid)
    assert started is not None
    path = RunRecords(folder).add(child.pid, {"job_id": 1})
    # Another server process sharing the data folder (this one is alive): nothing to do.
    assert RunRecords(folder).reap() == []
    assert running(child.pid, started) and path is not None and path.exists()
    RunRecords.remove(path)
    assert RunRecords(folder).orphans() == []
