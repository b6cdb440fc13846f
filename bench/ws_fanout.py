"""WebSocket fan-out: N sockets subscribed to prices on a real `hyperoru serve`.

The server runs in its own process with the Redis event bus; this script publishes
price events onto the same bus (as another server process would), each stamped with its
publish time, and N WebSocket clients in this process record when each one arrives.
Reports messages delivered per second and the publish-to-receipt delay, per publish rate.

    .venv/bin/python bench/ws_fanout.py --redis-url redis://127.0.0.1:6379/0

Needs a Redis server (the in-memory bus cannot be reached from outside the process).
The clients and the server share the machine, so on a small box the clients' own parsing
is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from hyperoru.realtime.bus import RedisEventBus
from hyperoru.realtime.events import PriceEvent

SYMBOL = "BENCH"
PASSWORD = "bench password that is long enough"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(port: int, redis_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    env.update(
        {
            "HYPERORU_DATA_DIR": str(data_dir),
            "HYPERORU_REDIS_URL": redis_url,
            "HYPERORU_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "HYPERORU_LOG_LEVEL": "WARNING",
            "HYPERORU_MARKET_SYMBOLS": "BTC",
        }
    )
    with open(data_dir / "server.stderr", "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "hyperoru", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


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


async def _token(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as http:
        body = {"username": "fanout", "password": PASSWORD}
        await http.post("/api/users/register", json=body)
        login = await http.post("/api/users/login", json=body)
        login.raise_for_status()
        return login.json()["session_token"]


@dataclass
class Receipts:
    delays: list[float] = field(default_factory=list)
    recording: bool = False


async def _listen(ws: ClientConnection, receipts: Receipts) -> None:
    async for frame in ws:
        received = time.time()
        message = json.loads(frame)
        if not receipts.recording or message.get("type") != "price_update":
            continue
        data = message["data"]
        if data.get("symbol") != SYMBOL:
            continue
        receipts.delays.append(received - data["sent_at"])


async def _open(url: str) -> ClientConnection:
    ws = await connect(url, max_queue=None, compression=None, open_timeout=60)
    json.loads(await ws.recv())  # connected
    await ws.send(json.dumps({"type": "subscribe", "data": {"channels": ["prices"]}}))
    json.loads(await ws.recv())  # subscribed
    return ws


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
            "sent_at": now.timestamp(),
        },
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run_rate(
    bus: RedisEventBus, receipts: Receipts, sockets: int, rate: float, seconds: float
) -> dict[str, float]:
    receipts.delays.clear()
    receipts.recording = True
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < seconds:
        await bus.publish(_event(sent))
        sent += 1
        next_at = started + sent / rate
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    publishing = time.monotonic() - started
    # Let the tail arrive (bounded), then stop recording.
    expected = sent * sockets
    for _ in range(100):
        if len(receipts.delays) >= expected:
            break
        await asyncio.sleep(0.1)
    receipts.recording = False
    delays = receipts.delays
    return {
        "rate": rate,
        "published": sent,
        "expected": expected,
        "delivered": len(delays),
        "msgs_per_s": len(delays) / publishing,
        "p50_ms": 1000 * statistics.median(delays) if delays else float("nan"),
        "p99_ms": 1000 * _percentile(delays, 0.99) if delays else float("nan"),
        "max_ms": 1000 * max(delays) if delays else float("nan"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("HYPERORU_BENCH_REDIS_URL"))
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rates", default="2,10,20", help="events/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("--redis-url (or HYPERORU_BENCH_REDIS_URL) is required")

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        process = _start_server(port, args.redis_url, Path(tmp))
        try:
            await _wait_healthy(base_url, process)
            token = await _token(base_url)
            url = f"ws://127.0.0.1:{port}/ws?session_token={token}"
            opened = time.monotonic()
            sockets: list[ClientConnection] = []
            for start in range(0, args.sockets, 100):
                batch = min(100, args.sockets - start)
                sockets += await asyncio.gather(*(_open(url) for _ in range(batch)))
            open_seconds = time.monotonic() - opened
            receipts = Receipts()
            listeners = [asyncio.create_task(_listen(ws, receipts)) for ws in sockets]
            bus = RedisEventBus(args.redis_url)
            await bus.start()
            try:
                results = [
                    await _run_rate(bus, receipts, len(sockets), float(rate), args.seconds)
                    for rate in args.rates.split(",")
                ]
            finally:
                await bus.aclose()
                for task in listeners:
                    task.cancel()
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        finally:
            process.terminate()
            process.wait(timeout=30)

    print(f"{len(sockets)} sockets opened and subscribed in {open_seconds:.1f} s")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    print()
    print(
        "| events/s published | events | frames expected | frames delivered | frames/s "
        "| p50 ms | p99 ms | max ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rate']:g} | {r['published']} | {r['expected']} | {r['delivered']} "
            f"| {r['msgs_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['max_ms']:.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
