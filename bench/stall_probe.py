"""Does the API stay responsive while hundreds of traders decide? A stall probe.

Starts ``python -m hyperoru serve`` (the embedded default: SQLite in a temporary folder,
the simulated market, the trader runtime in the same process; only the rate limits are
raised out of the way), creates ``--traders`` builtin-model traders over HTTP (100 per
user, the per-user cap), then gives each a schedule (``PUT /api/account/{id}/strategy``,
every ``--interval`` seconds, the shortest allowed) and polls ``GET /api/health`` at
``--rate`` Hz for ``--duration`` seconds from just before the first schedule is set, so
the first cycles (and whatever they load) are inside the window.

Every answer slower than 100 ms means the server's event loop (or its connection pool)
kept a waiting request from running. A second poller asks for an unknown path at the same
rate: its 404 touches no database, so when only ``/api/health`` is slow the time went
waiting for a pooled connection, and when both are slow the loop itself was blocked.

Reports max / p99 / p50 latency, the answers over 100 ms, the decisions the traders
recorded in the window, and the load average (``/proc/loadavg``) before and after.

    .venv/bin/python bench/stall_probe.py [--traders 200] [--duration 120] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PASSWORD = "stall probe password, long enough"
TRADERS_PER_USER = 100  # accounts.service.MAX_TRADERS_PER_USER
SLOW_MS = 100.0
SYMBOLS = ["BTC", "ETH", "SOL"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    env.update(
        {
            "HYPERORU_DATA_DIR": str(data_dir),
            "HYPERORU_SECRET_KEY": "stall-probe-secret-key-0123456789abcdef0123",
            "HYPERORU_RATE_LIMIT_USER_PER_MINUTE": str(10**9),
            "HYPERORU_RATE_LIMIT_IP_PER_MINUTE": str(10**9),
            "HYPERORU_RATE_LIMIT_AUTH_PER_MINUTE": str(10**9),
        }
    )
    log = open(data_dir.parent / "server.log", "wb")  # noqa: SIM115 - lives with the process
    return subprocess.Popen(
        [sys.executable, "-m", "hyperoru", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("server did not start")
        time.sleep(0.2)


@dataclass
class Poller:
    """GETs ``path`` every ``1 / rate`` seconds on one kept-alive connection, in a thread
    of its own so that the probe's own work never delays a poll."""

    base_url: str
    path: str
    rate: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        period = 1.0 / self.rate
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            next_at = time.perf_counter()
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    answer = client.get(self.path)
                    if answer.status_code >= 500:
                        self.failures += 1
                except httpx.HTTPError:
                    self.failures += 1
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                # A fixed schedule; a late answer is followed at once, not by a burst.
                next_at = max(next_at + period, time.perf_counter())
                self._stop.wait(max(0.0, next_at - time.perf_counter()))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _create_traders(client: httpx.AsyncClient, count: int) -> list[tuple[dict, int]]:
    """(auth headers, trader id) for ``count`` builtin traders, 100 per user."""
    prefix = f"probe{int(time.time())}"
    traders: list[tuple[dict, int]] = []
    for user in range(-(-count // TRADERS_PER_USER)):
        body = {"username": f"{prefix}u{user}", "password": PASSWORD}
        registered = await client.post("/api/users/register", json=body)
        assert registered.status_code == 201, registered.text
        token = (await client.post("/api/users/login", json=body)).json()["session_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(min(TRADERS_PER_USER, count - len(traders))):
            created = await client.post(
                "/api/account/",
                json={"name": f"probe {user}-{n}", "llm_provider": "builtin", "max_leverage": 3},
                headers=headers,
            )
            assert created.status_code == 201, created.text
            traders.append((headers, created.json()["id"]))
    return traders


async def _schedule(
    client: httpx.AsyncClient, traders: list[tuple[dict, int]], every: int, spread: float
) -> None:
    """Schedules set one after another over ``spread`` seconds: each trader's clock starts
    when its schedule is set, so their cycles stay spread over the interval."""
    for index, (headers, trader_id) in enumerate(traders):
        await asyncio.sleep(spread / len(traders))
        answer = await client.put(
            f"/api/account/{trader_id}/strategy",
            json={
                "symbols": [SYMBOLS[index % len(SYMBOLS)], SYMBOLS[(index + 1) % len(SYMBOLS)]],
                "trigger_interval": every,
                "scheduled_trigger_enabled": True,
            },
            headers=headers,
        )
        assert answer.status_code == 200, answer.text


def _decisions(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT status, count(*) FROM decision_records GROUP BY status")
        return dict(rows.fetchall())


def _summary(poller: Poller) -> str:
    values = poller.latencies_ms
    slow = sum(1 for v in values if v > SLOW_MS)
    return (
        f"| `GET {poller.path}` | {len(values)} | {max(values):.1f} | "
        f"{_percentile(values, 0.99):.1f} | {_percentile(values, 0.5):.1f} | {slow} | "
        f"{poller.failures} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traders", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of polling")
    parser.add_argument("--rate", type=float, default=20.0, help="polls per second")
    parser.add_argument("--interval", type=int, default=30, help="seconds between cycles")
    parser.add_argument(
        "--spread",
        type=float,
        help="seconds over which the schedules are set (default: --interval; 0: all at once)",
    )
    parser.add_argument("--server-log", type=Path, help="keep the server's output here")
    args = parser.parse_args()

    spread = args.interval if args.spread is None else args.spread
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as temp:
        data_dir = Path(temp) / "data"
        server = _start_server(data_dir, port)
        try:
            _wait_healthy(base_url, server)

            async def prepare() -> list[tuple[dict, int]]:
                async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                    return await _create_traders(client, args.traders)

            traders = asyncio.run(prepare())
            load_before = os.getloadavg()
            pollers = [
                Poller(base_url, "/api/health", args.rate),
                Poller(base_url, "/api/stall-probe-unknown-path", args.rate),
            ]
            for poller in pollers:
                poller.start()
            started = time.monotonic()

            async def schedule() -> None:
                async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                    await _schedule(client, traders, args.interval, spread)

            asyncio.run(schedule())
            time.sleep(max(0.0, args.duration - (time.monotonic() - started)))
            for poller in pollers:
                poller.stop()
            load_after = os.getloadavg()
            decisions = _decisions(data_dir / "hyperoru.db")
        except BaseException:
            print((Path(temp) / "server.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait()
            if args.server_log:
                args.server_log.write_bytes((Path(temp) / "server.log").read_bytes())

    print(
        f"\n{args.traders} builtin traders every {args.interval} s (schedules set over "
        f"{spread:g} s), {args.duration:g} s at "
        f"{args.rate:g} Hz; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"load average before {' '.join(f'{v:.2f}' for v in load_before)}, "
        f"after {' '.join(f'{v:.2f}' for v in load_after)}"
    )
    print(f"decisions recorded: {decisions}\n")
    print(f"| request | answers | max ms | p99 ms | p50 ms | over {SLOW_MS:g} ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for poller in pollers:
        print(_summary(poller))


if __name__ == "__main__":
    main()
