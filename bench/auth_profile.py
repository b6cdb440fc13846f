"""Authenticated ``GET /api/users/profile`` against a bare FastAPI endpoint, in one run.

Each side runs as its own uvicorn process on 127.0.0.1 (started by ``bench/auth/serve.py``
with the settings of ``hyperoru serve``) and is loaded by wrk with the same request: a GET
carrying ``Authorization: Bearer <token>``. Only one server is under load at a time.

    .venv/bin/python bench/auth_profile.py            # about 40 s
    .venv/bin/python bench/auth_profile.py --duration 5 --warmup 2
    .venv/bin/python bench/auth_profile.py --database-url postgresql+asyncpg://u@127.0.0.1/db

Prints requests/s and p50/p99 latency for both sides and their ratio; the goal of issue 2
is a ratio of at least 0.5. Exits non-zero when wrk saw any error or non-2xx answer,
because throughput measured on failing requests means nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fastapi
import httpx
import uvicorn

BENCH_DIR = Path(__file__).resolve().parent
SERVE_SCRIPT = BENCH_DIR / "auth" / "serve.py"
WRK_SCRIPT = BENCH_DIR / "auth" / "bearer.lua"
PROFILE_PATH = "/api/users/profile"
PASSWORD = "correct horse battery staple"  # a throw-away account on a throw-away database
STARTUP_TIMEOUT_SECONDS = 60.0
MAX_SECONDS_PER_LOAD = 60


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    duration_us: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    status_errors: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / (self.duration_us / 1_000_000)

    @property
    def failures(self) -> int:
        return (
            self.status_errors
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited early; its log:\n{log_path.read_text()[-4000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer {url} within {STARTUP_TIMEOUT_SECONDS:.0f} s")


@contextmanager
def running_server(
    app: str,
    work_dir: Path,
    database_url: str | None,
    *,
    label: str | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[tuple[str, Path]]:
    """Start ``serve.py <app> [extra_args]`` on a free port; yield its base URL and stderr
    log file (both named ``label``, default ``app``, inside ``work_dir``)."""
    port = _free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir = work_dir / f"{label or app}-data"
    log_path = work_dir / f"{label or app}.log"
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(SERVE_SCRIPT), app, "--port", str(port), "--data-dir", data_dir]
    command += list(extra_args)
    if database_url:
        command += ["--database-url", database_url]
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            _wait_until_serving(base_url + PROFILE_PATH, server, log_path)
            yield base_url, log_path
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def sign_in(base_url: str) -> str:
    """Register a bench user and log in, as a client would; returns the session token."""
    # A new name each run, so a reused PostgreSQL database never answers 409.
    username = f"bench-{secrets.token_hex(4)}"
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        registered = client.post(
            "/api/users/register", json={"username": username, "password": PASSWORD}
        )
        registered.raise_for_status()
        logged_in = client.post(
            "/api/users/login", json={"username": username, "password": PASSWORD}
        )
        logged_in.raise_for_status()
        token = logged_in.json()["session_token"]
        check = client.get(PROFILE_PATH, headers={"Authorization": f"Bearer {token}"})
        if check.status_code != 200:
            raise SystemExit(f"profile with a fresh token answered {check.status_code}")
        return token


def run_wrk(url: str, token: str, *, seconds: int, threads: int, connections: int) -> LoadResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_TOKEN": token}
    finished = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 30
    )
    if finished.returncode != 0:
        raise SystemExit(f"wrk failed ({finished.returncode}): {finished.stderr}")
    for line in finished.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return LoadResult(**json.loads(line.removeprefix("BENCH_RESULT ")))
    raise SystemExit(f"wrk printed no result line:\n{finished.stdout}")


def measure(app: str, work_dir: Path, args: argparse.Namespace) -> tuple[LoadResult, int]:
    """Warm up, then load one server; returns the result and its access-log line count."""
    database_url = args.database_url if app == "hyperoru" else None
    with running_server(app, work_dir, database_url) as (base_url, log_path):
        # The bare app ignores the header; a token of the same shape keeps the bytes equal.
        token = sign_in(base_url) if app == "hyperoru" else "hyo_" + "0" * 43
        load = {"threads": args.threads, "connections": args.connections}
        run_wrk(base_url + PROFILE_PATH, token, seconds=args.warmup, **load)
        result = run_wrk(base_url + PROFILE_PATH, token, seconds=args.duration, **load)
    with log_path.open() as log:
        access_lines = sum('"logger": "hyperoru.access"' in line for line in log)
    if result.failures:
        raise SystemExit(f"{app}: wrk reported {result.failures} failed requests: {result}")
    return result, access_lines


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def wrk_version() -> str:
    shown = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (shown.stdout or shown.stderr).split("[", 1)[0].strip()


def _row(name: str, result: LoadResult) -> str:
    return (
        f"| {name} | {result.requests_per_second:,.0f} | {result.p50_us / 1000:.2f} "
        f"| {result.p99_us / 1000:.2f} | {result.requests:,} |"
    )


def report(
    bare: LoadResult,
    authed: LoadResult,
    access_lines: int,
    args: argparse.Namespace,
    load_before: float,
) -> None:
    ratio = authed.requests_per_second / bare.requests_per_second
    print(
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__}, FastAPI {fastapi.__version__}, {wrk_version()}"
    )
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"hyperoru database: {database}")
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s "
        f"after a {args.warmup} s warm-up, one server at a time; 1-minute load average "
        f"before the run {load_before:.2f} (anything near the CPU count means a noisy run)\n"
    )
    print("| endpoint | requests/s | p50 ms | p99 ms | requests |")
    print("|---|---:|---:|---:|---:|")
    print(_row("bare FastAPI `GET /api/users/profile` (constant body)", bare))
    print(_row("hyperoru `GET /api/users/profile` (Bearer token)", authed))
    verdict = "meets" if ratio >= 0.5 else "misses"
    print(f"\nratio authenticated / bare: {ratio:.2f} ({verdict} the 0.5 goal)")
    print(
        f"hyperoru access-log lines written: {access_lines:,} (one per request, "
        f"sign-in and warm-up included; wrk counted {authed.requests:,} measured)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before measuring")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--database-url", help="hyperoru's database (default: SQLite in a temporary folder)"
    )
    args = parser.parse_args()
    for name in ("duration", "warmup"):
        if not 1 <= getattr(args, name) <= MAX_SECONDS_PER_LOAD:
            parser.error(f"--{name} must be between 1 and {MAX_SECONDS_PER_LOAD} seconds")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hyperoru-bench-") as tmp:
        work_dir = Path(tmp)
        bare, _ = measure("bare", work_dir, args)
        authed, access_lines = measure("hyperoru", work_dir, args)
    report(bare, authed, access_lines, args, load_before)


if __name__ == "__main__":
    main()
