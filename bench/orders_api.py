"""Market orders per second through the API: create + execute on a real uvicorn.

Starts ``hyperoru`` (sim market, rate limits raised out of the way, SQLite in a temporary
folder or the PostgreSQL given with ``--database-url``) in its own process on 127.0.0.1,
registers users over HTTP, and then places 0.001 BTC market orders, buy and sell in turn
(open, close, ...), each as the contract's two requests: POST /api/orders/create, then
POST /api/orders/execute/{id}. Every order is a transaction that locks the trader's
ledger, walks the book, writes the fill and the order, and commits.

Cases:
- one trader, orders one after another (one client);
- one trader, 8 clients at once (they queue on the trader's lock);
- ``--traders`` traders (one per user), one client each, all at once.

Refuses to report a run with an error or a rejected order.

    .venv/bin/python bench/orders_api.py [--orders 400] [--traders 16] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PASSWORD = "bench password that is long enough"


def serve(port: int, data_dir: str, database_url: str | None) -> None:
    """The server process: what ``hyperoru serve`` runs, with budgets out of the way."""
    import uvicorn

    from hyperoru.app import create_app
    from hyperoru.logging_setup import configure_logging
    from hyperoru.settings import Settings

    extra = {"database_url": database_url} if database_url else {}
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(data_dir),
        secret_key="bench-secret-key-0123456789abcdef0123456789",
        rate_limit_user_per_minute=10**9,
        rate_limit_ip_per_minute=10**9,
        rate_limit_auth_per_minute=10**9,
        log_level="WARNING",
        **extra,
    )
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings, freeze_after_startup=True),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_config=None,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _trader(client: httpx.AsyncClient, name: str) -> tuple[dict[str, str], int]:
    body = {"username": name, "password": PASSWORD}
    assert (await client.post("/api/users/register", json=body)).status_code == 201
    token = (await client.post("/api/users/login", json=body)).json()["session_token"]
    headers = {"Authorization": f"Bearer {token}"}
    account = await client.post(
        "/api/account/", json={"name": name, "initial_capital": 10**6}, headers=headers
    )
    return headers, account.json()["id"]


async def _orders(
    client: httpx.AsyncClient, headers: dict[str, str], account_id: int, count: int, first: int
) -> None:
    for n in range(first, first + count):
        order = {
            "account_id": account_id,
            "symbol": "BTC",
            "side": "buy" if n % 2 == 0 else "sell",
            "order_type": "market",
            "quantity": 0.001,
        }
        created = await client.post("/api/orders/create", json=order, headers=headers)
        if created.status_code != 201:
            raise RuntimeError(f"create: {created.status_code} {created.text}")
        executed = await client.post(f"/api/orders/execute/{created.json()['id']}", headers=headers)
        if executed.status_code != 200 or executed.json()["execution_status"] != "filled":
            raise RuntimeError(f"execute: {executed.status_code} {executed.text}")


async def _measure(label: str, jobs: list, total: int, rows: list) -> None:
    started = time.perf_counter()
    await asyncio.gather(*jobs)
    seconds = time.perf_counter() - started
    rows.append((label, total, seconds, total / seconds))


async def run(base_url: str, orders: int, traders: int, prefix: str) -> list:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        one = await _trader(client, f"{prefix}solo")
        crowd = [await _trader(client, f"{prefix}t{i}") for i in range(traders)]
        await _orders(client, *one, 10, 0)  # warm-up: imports, caches, connections
        rows: list = []
        await _measure("one trader, 1 client", [_orders(client, *one, orders, 0)], orders, rows)
        per = orders // 8
        await _measure(
            "one trader, 8 clients at once",
            [_orders(client, *one, per, i * per) for i in range(8)],
            per * 8,
            rows,
        )
        per = max(1, orders // traders)
        await _measure(
            f"{traders} traders, 1 client each, all at once",
            [_orders(client, *t, per, 0) for t in crowd],
            per * traders,
            rows,
        )
        return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--traders", type=int, default=16)
    parser.add_argument("--database-url")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.database_url)
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        command = [sys.executable, __file__, "--serve", str(port), data_dir]
        if args.database_url:
            command += ["--database-url", args.database_url]
        server = subprocess.Popen(command)
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base_url}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            load = os.getloadavg()[0]
            prefix = f"b{int(time.time())}"
            rows = asyncio.run(run(base_url, args.orders, args.traders, prefix))
        finally:
            server.terminate()
            server.wait()
    database = "PostgreSQL" if args.database_url else "SQLite"
    python = platform.python_version()
    print(f"\n{database}; {os.cpu_count()} CPUs; load {load:.2f}; Python {python}\n")
    print("| case | orders | seconds | orders/s |")
    print("|---|---:|---:|---:|")
    for label, total, seconds, rate in rows:
        print(f"| {label} | {total} | {seconds:.2f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
