"""WebSocket fan-out: N sockets subscribed to prices on a real `hyperoru serve`.

The server runs in its own process with the Redis event bus; this script publishes
price events onto the same bus (as another server process would), each stamped with its
publish time and a sequence number, and the sockets, held by ``--client-processes``
separate processes (bench/ws_fanout_clients.py), record when each frame arrives.
Reports, per publish rate: frames delivered, the publish-to-receipt delay (p50, p99,
max), the CPU use of the server process and of the client processes, and the machine's
load average. Each window lasts until every frame has arrived (at most 60 s after the
last publish), so late frames count in its percentiles; ``s`` is its length.

    .venv/bin/python bench/ws_fanout.py --redis-url redis://127.0.0.1:6379/0 \\
        [--sockets 1000] [--rates 2,10] [--seconds 10] [--client-processes 4] \\
        [--uvicorn '{"ws": "websockets"}'] [--profile server.prof]

Needs a Redis server (the in-memory bus cannot be reached from outside the process).
Opening more than about 500 sockets needs ``ulimit -n`` above twice their number.
A user holds at most 32 sockets per process (close 4409 beyond), so the sockets are
spread over ``ceil(sockets / 32)`` users.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import httpx
from ws_fanout_clients import SYMBOL, run_clients

from hyperoru.realtime.bus import RedisEventBus
from hyperoru.realtime.events import PriceEvent
from hyperoru.realtime.limits import WsLimits

PASSWORD = "bench password that is long enough"
LAUNCHER = Path(__file__).with_name("serve_with_uvicorn_options.py")
_TICKS = os.sysconf("SC_CLK_TCK")
_TAIL_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(
    port: int, redis_url: str, data_dir: Path, uvicorn_options: str, profile: str | None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    env.update(
        {
            "HYPERORU_DATA_DIR": str(data_dir),
            "HYPERORU_REDIS_URL": redis_url,
            "HYPERORU_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "HYPERORU_LOG_LEVEL": "WARNING",
            "HYPERORU_MARKET_SYMBOLS": "BTC",
            # Hundreds of users register and log in from 127.0.0.1 before the run.
            "HYPERORU_RATE_LIMIT_AUTH_PER_MINUTE": "1000000",
            "HYPERORU_RATE_LIMIT_IP_PER_MINUTE": "1000000",
        }
    )
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    command = [sys.executable, *profiler, str(LAUNCHER), uvicorn_options, "serve"]
    with open(data_dir / "server.stderr", "wb") as stderr:
        return subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def _wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("server exited during start-up")
            try:
                if (await http.get("/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not become healthy")


async def _tokens(base_url: str, users: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:

        async def one(n: int) -> str:
            body = {"username": f"fanout{n}", "password": PASSWORD}
            await http.post("/api/users/register", json=body)
            login = await http.post("/api/users/login", json=body)
            login.raise_for_status()
            return str(login.json()["session_token"])

        tokens: list[str] = []
        for start in range(0, users, 8):
            tokens += await asyncio.gather(*(one(n) for n in range(start, min(users, start + 8))))
        return tokens


def _event(sequence: int) -> PriceEvent:
    now = datetime.now(UTC)
    price = 100 + sequence % 100
    return PriceEvent(
        symbol=SYMBOL,
        observed_at=now,
        data={
            "symbol": SYMBOL,
            "price": price,
            "bid": price - 0.5,
            "ask": price + 0.5,
            "mark_price": price,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "source": "bench",
            "stale": False,
            "seq": sequence,
            "sent_at": now.timestamp(),
        },
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Window:
    rate: float
    first_seq: int
    published: int
    seconds: float
    server_cpu: float
    clients_cpu: float
    load: float


async def _recorded(pipes: list[Pipe]) -> int:
    for pipe in pipes:
        pipe.send("count")
    total = 0
    for pipe in pipes:
        kind, count = await _receive(pipe)  # type: ignore[misc]
        assert kind == "count"
        total += count
    return total


async def _publish_at(
    bus: RedisEventBus,
    rate: float,
    seconds: float,
    first_seq: int,
    server_pid: int,
    clients: list[tuple[int, Pipe]],
    sockets: int,
) -> Window:
    client_pids = [pid for pid, _ in clients]
    pipes = [pipe for _, pipe in clients]
    recorded_before = await _recorded(pipes)
    cpu_before = _cpu_seconds(server_pid)
    clients_before = sum(_cpu_seconds(pid) for pid in client_pids)
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < seconds:
        await bus.publish(_event(first_seq + sent))
        sent += 1
        next_at = started + sent / rate
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    # Wait for the tail (every frame, or _TAIL_SECONDS), so that late frames are counted
    # in this window's percentiles rather than dropped from them.
    deadline = time.monotonic() + _TAIL_SECONDS
    while time.monotonic() < deadline:
        if await _recorded(pipes) - recorded_before >= sent * sockets:
            break
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    return Window(
        rate=rate,
        first_seq=first_seq,
        published=sent,
        seconds=elapsed,
        server_cpu=(_cpu_seconds(server_pid) - cpu_before) / elapsed,
        clients_cpu=(sum(_cpu_seconds(pid) for pid in client_pids) - clients_before) / elapsed,
        load=os.getloadavg()[0],
    )


def _spawn_clients(
    count: int, port: int, paths: list[str]
) -> tuple[list[multiprocessing.process.BaseProcess], list[Pipe]]:
    context = multiprocessing.get_context("spawn")
    processes, pipes = [], []
    for index in range(count):
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=run_clients, args=(child_end, "127.0.0.1", port), daemon=True
        )
        process.start()
        parent_end.send(paths[index::count])
        processes.append(process)
        pipes.append(parent_end)
    return processes, pipes


async def _receive(pipe: Pipe) -> object:
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("HYPERORU_BENCH_REDIS_URL"))
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rates", default="2,10", help="events/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument(
        "--uvicorn", default="{}", help="JSON merged over hyperoru serve's uvicorn options"
    )
    parser.add_argument("--profile", help="write the server's cProfile stats to this file")
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("--redis-url (or HYPERORU_BENCH_REDIS_URL) is required")

    per_user = WsLimits().max_sockets_per_user
    users = math.ceil(args.sockets / per_user)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()[0]
    windows: list[Window] = []
    delays: list[tuple[int, float]] = []
    closes: Counter[int] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        server = _start_server(port, args.redis_url, Path(tmp), args.uvicorn, args.profile)
        processes: list[multiprocessing.process.BaseProcess] = []
        try:
            await _wait_healthy(base_url, server)
            tokens = await _tokens(base_url, users)
            paths = [f"/ws?session_token={tokens[n // per_user]}" for n in range(args.sockets)]
            opened_at = time.monotonic()
            processes, pipes = _spawn_clients(args.client_processes, port, paths)
            ready = [await _receive(pipe) for pipe in pipes]
            open_seconds = time.monotonic() - opened_at
            opened = sum(r[1] for r in ready)  # type: ignore[index]
            failed = sum(r[2] for r in ready)  # type: ignore[index]
            bus = RedisEventBus(args.redis_url)
            await bus.start()
            try:
                seq = 0
                for rate in (float(r) for r in args.rates.split(",")):
                    window = await _publish_at(
                        bus,
                        rate,
                        args.seconds,
                        seq,
                        server.pid,
                        [(p.pid, pipe) for p, pipe in zip(processes, pipes, strict=True)],
                        opened,
                    )
                    windows.append(window)
                    seq += window.published
            finally:
                await bus.aclose()
            for pipe in pipes:
                pipe.send("stop")
            for pipe in pipes:
                kind, got, codes = await _receive(pipe)  # type: ignore[misc]
                assert kind == "receipts"
                delays += got
                closes.update(codes)
        finally:
            for process in processes:
                process.join(timeout=30)
            server.terminate()
            server.wait(timeout=60)

    print(f"{opened} sockets opened and subscribed in {open_seconds:.1f} s ({failed} failed),")
    print(f"{users} users, {args.client_processes} client processes, uvicorn {args.uvicorn}")
    print(f"load average before {load_before:.2f}; sockets closed by the server: {dict(closes)}")
    print()
    print(
        "| events/s | events | frames expected | frames delivered | p50 ms | p99 ms | max ms "
        "| server CPU % | clients CPU % | s | load avg |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in windows:
        mine = [d for s, d in delays if w.first_seq <= s < w.first_seq + w.published]
        p50 = 1000 * statistics.median(mine) if mine else math.nan
        p99 = 1000 * _percentile(mine, 0.99) if mine else math.nan
        top = 1000 * max(mine) if mine else math.nan
        print(
            f"| {w.rate:g} | {w.published} | {w.published * opened} | {len(mine)} "
            f"| {p50:.1f} | {p99:.1f} | {top:.1f} | {100 * w.server_cpu:.0f} "
            f"| {100 * w.clients_cpu:.0f} | {w.seconds:.0f} | {w.load:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
