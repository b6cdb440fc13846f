"""Run `hyperoru serve` and `hyperoru worker` as real processes on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET_KEY
from tests.helpers import child_env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scaled_env(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """The settings every process of the scaled shape shares (one database, one Redis,
    one secret key), plus ``settings`` given by their names without ``HYPERORU_``."""
    return {
        "HYPERORU_DATABASE_URL": database_url,
        "HYPERORU_REDIS_URL": redis_url,
        "HYPERORU_SECRET_KEY": TEST_SECRET_KEY,
        "HYPERORU_MARKET_SYMBOLS": "BTC",
        **{f"HYPERORU_{name}": value for name, value in settings.items()},
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a graceful stop), then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path
    stdout_path: Path

    def logs(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace")


@contextmanager
def serve(
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    start_seconds: float = 90,
) -> Iterator[RunningServer]:
    port = free_port()
    env = child_env(data_dir, extra_env)
    stderr_path = data_dir.parent / f"server-{port}.stderr"
    stdout_path = data_dir.parent / f"server-{port}.stdout"
    with open(stderr_path, "wb") as stderr, open(stdout_path, "wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "hyperoru", "serve", "--port", str(port), *args],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, stderr_path, stdout_path)
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                if httpx.get(f"{server.base_url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{server.logs()}")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


@dataclass
class RunningWorker:
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def logs(self) -> str:
        return self.stderr_path.read_text(errors="replace")


@contextmanager
def worker(
    data_dir: Path, extra_env: dict[str, str], args: tuple[str, ...] = ()
) -> Iterator[RunningWorker]:
    """`hyperoru worker` as a real process; returns once it says it has started."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(data_dir, extra_env)
    stderr_path = data_dir / "worker.stderr"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hyperoru", "worker", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    running = RunningWorker(process, stderr_path)
    try:
        deadline = time.monotonic() + 90
        while "worker started" not in running.logs():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{running.logs()}")
            time.sleep(0.1)
        yield running
    finally:
        _stop(process)
