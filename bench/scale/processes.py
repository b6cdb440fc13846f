"""The processes a bench run starts, and their end: each in its own session (so a Ctrl-C
at the terminal reaches the bench, which then stops them in order), each writing its
output to a log file, and all stopped by their own process group id when the run ends,
however it ends."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

STOP_GRACE_SECONDS = 10.0


class SetupFailed(Exception):
    """The run could not be set up as asked; nothing it measured may be reported."""


@dataclass
class Spawned:
    label: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def tail(self, count: int = 15) -> str:
        return "\n".join(self.log_lines()[-count:])


class Processes:
    """Starts processes and guarantees they are stopped (``stop_all``, also at exit)."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._started: list[Spawned] = []
        atexit.register(self.stop_all)

    @property
    def started(self) -> list[Spawned]:
        return list(self._started)

    def start(self, label: str, argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> Spawned:
        log_path = self._log_dir / f"{label}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                list(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        spawned = Spawned(label, popen, log_path)
        self._started.append(spawned)
        return spawned

    def stop_all(self) -> None:
        """SIGTERM to every group started (newest first), SIGKILL to what outlives the grace."""
        running = [s for s in reversed(self._started) if s.alive()]
        for spawned in running:
            _signal_group(spawned.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for spawned in running:
            try:
                spawned.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(spawned.pid, signal.SIGKILL)
                spawned.popen.wait()
        # Children of a stopped leader (none are expected) go with their group.
        for spawned in running:
            _signal_group(spawned.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


async def wait_http_ok(url: str, spawned: Spawned, *, within_seconds: float) -> None:
    deadline = time.monotonic() + within_seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not spawned.alive():
                raise SetupFailed(f"{spawned.label} exited on start-up:\n{spawned.tail()}")
            if time.monotonic() > deadline:
                raise SetupFailed(
                    f"{spawned.label} did not answer {url} within {within_seconds:g} s"
                )
            await asyncio.sleep(0.2)


async def wait_log_text(spawned: Spawned, text: str, *, within_seconds: float) -> None:
    deadline = time.monotonic() + within_seconds
    while text not in spawned.log_path.read_text(errors="replace"):
        if not spawned.alive():
            raise SetupFailed(f"{spawned.label} exited on start-up:\n{spawned.tail()}")
        if time.monotonic() > deadline:
            raise SetupFailed(f"{spawned.label} did not log {text!r} within {within_seconds:g} s")
        await asyncio.sleep(0.2)
