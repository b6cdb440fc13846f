"""Where one API order's time goes: statements per create + execute, and a CPU profile.

Runs hyperoru in this process (``create_app`` with the bench server's settings, SQLite in
a temporary folder or the database given with ``--database-url``), signs a user in,
makes a trader, and places 0.001 BTC market orders, buy and sell in turn, each as the
contract's two requests (``POST /api/orders/create``, then ``POST
/api/orders/execute/{id}``) through httpx's in-process ASGI transport: no sockets, no
HTTP parser, so what is measured is the application.

It prints:
- the statements each request runs (counted with a SQLAlchemy ``before_cursor_execute``
  listener, only for statements issued by the order requests themselves: the monitor
  and other background work are left out), and their first words;
- in-process orders a second, one order after another, with and without the profiler
  (relative numbers: compare runs made side by side);
- the profile's self time grouped by where the code lives (framework, ORM, driver,
  hyperoru's auth, engine, ledger, ...) and its top entries.

    .venv/bin/python bench/order_profile.py [--orders 300] [--database-url URL] [--top 25]

cProfile sees the event loop's thread only: a statement's time in SQLite's thread shows
as the loop waiting (``select``), which is what the loop's CPU does not pay for.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profiling import CLIENT, REQUEST, Statements, by_group, entries, running_app

PASSWORD = "correct horse battery staple"  # a throw-away account in a throw-away database

# Steps of an order, by (a fragment of the file, the function): cumulative time, nested
# (a step's time includes the steps it calls).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("the whole app, both requests", "fastapi/applications.py", "__call__"),
    ("middleware to route (both requests)", "starlette/routing.py", "handle"),
    ("dependencies (parse, validate, auth)", "fastapi/dependencies/utils.py", "solve_dependencies"),
    ("authentication (token, rate limit)", "hyperoru/auth/dependencies.py", "authenticate"),
    ("create: the owned trader", "hyperoru/accounts/service.py", "load_owned_account"),
    (
        "create: checks and the order's insert + commit",
        "hyperoru/trading/service.py",
        "create_order",
    ),
    (
        "execute: the owned order (before: load_owned_order)",
        "trading/service.py",
        "load_owned_order",
    ),
    ("execute: paper or live (before: mode_of)", "hyperoru/trading/execution.py", "mode_of"),
    ("execute: owner and venue in one read", "trading/service.py", "owned_order_target"),
    ("execute: paper client", "hyperoru/trading/paper_client.py", "execute"),
    ("  ledger, order, trader read", "hyperoru/trading/ledger_store.py", "lock_for_order"),
    ("  engine: place_order", "hyperoru/trading/engine/orders.py", "place_order"),
    ("  record + save + commit", "hyperoru/trading/paper_client.py", "_commit"),
    ("    events to rows", "hyperoru/trading/ledger_store.py", "record"),
    ("      the fills' INSERT", "hyperoru/trading/ledger_store.py", "_insert_fills"),
    ("      the order's UPDATE", "hyperoru/trading/ledger_store.py", "write"),
    ("    notifications outbox", "hyperoru/notifications/outbox.py", "trades_recorded"),
    ("    state to the ledger row", "hyperoru/trading/ledger_store.py", "save_state"),
    ("    commit (flush + COMMIT)", "sqlalchemy/ext/asyncio/session.py", "commit"),
    ("  after the commit: versions, bus", "hyperoru/trading/paper_client.py", "_publish"),
    ("response models to JSON", "fastapi/routing.py", "serialize_response"),
)


async def sign_in(client: httpx.AsyncClient) -> tuple[dict[str, str], int]:
    body = {"username": f"profile-{os.getpid()}-{time.time_ns() % 10**6}", "password": PASSWORD}
    (await client.post("/api/users/register", json=body)).raise_for_status()
    login = await client.post("/api/users/login", json=body)
    headers = {"Authorization": f"Bearer {login.raise_for_status().json()['session_token']}"}
    trader = await client.post(
        "/api/account/", json={"name": "profiled", "initial_capital": 10**6}, headers=headers
    )
    return headers, trader.raise_for_status().json()["id"]


async def orders(
    client: httpx.AsyncClient, headers: dict[str, str], account_id: int, count: int, tally=None
) -> None:
    for n in range(count):
        body = {
            "account_id": account_id,
            "symbol": "BTC",
            "side": "buy" if n % 2 == 0 else "sell",
            "order_type": "market",
            "quantity": 0.001,
        }
        if tally is not None:
            tally.requests["create"] += 1
        token = REQUEST.set("create")
        created = await client.post("/api/orders/create", json=body, headers=headers)
        REQUEST.reset(token)
        if created.status_code != 201:
            raise SystemExit(f"create: {created.status_code} {created.text}")
        if tally is not None:
            tally.requests["execute"] += 1
        token = REQUEST.set("execute")
        executed = await client.post(f"/api/orders/execute/{created.json()['id']}", headers=headers)
        REQUEST.reset(token)
        if executed.status_code != 200 or executed.json()["execution_status"] != "filled":
            raise SystemExit(f"execute: {executed.status_code} {executed.text}")


def print_profile(profile: cProfile.Profile, top: int, orders_run: int) -> None:
    stats = pstats.Stats(profile)
    seconds_by_group, calls = by_group(stats)
    total = sum(seconds_by_group.values())
    server_calls = sum(calls.values()) - calls[CLIENT]
    # Function calls do not depend on how busy the machine is: on a shared machine they
    # compare two versions better than seconds do.
    print(
        f"\nfunction calls per order, server side: {server_calls / orders_run:,.0f} "
        f"(SQLAlchemy {calls['SQLAlchemy'] / orders_run:,.0f})"
    )
    print(f"\nself time by where the code lives ({total:.2f} s for {orders_run} orders):\n")
    print("| part | share | µs per order | calls per order |")
    print("|---|---:|---:|---:|")
    for group, seconds in seconds_by_group.most_common():
        share, each = 100 * seconds / total, 1e6 * seconds / orders_run
        print(f"| {group} | {share:.1f} % | {each:,.0f} | {calls[group] / orders_run:,.0f} |")
    print("\nsteps (cumulative, nested; a coroutine counts while it runs, not while it waits):\n")
    print("| step | µs per order |")
    print("|---|---:|")
    for label, fragment, function in STEPS:
        seconds = sum(
            row[3]
            for (filename, _, name), row in entries(stats).items()
            if name == function and fragment in filename
        )
        print(f"| {label} | {1e6 * seconds / orders_run:,.0f} |")
    if not top:
        return
    print(f"\ntop {top} by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"top {top} by self time:\n")
    stats.sort_stats("tottime").print_stats(top)


async def run(args: argparse.Namespace) -> None:
    async with running_app(args.database_url) as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers, account_id = await sign_in(client)
            await orders(client, headers, account_id, 20)  # warm-up: caches, connections
            tally = Statements()
            engine = app.state.services.engine.sync_engine
            event.listen(engine, "before_cursor_execute", tally.note)
            try:
                await orders(client, headers, account_id, args.orders, tally)
            finally:
                event.remove(engine, "before_cursor_execute", tally.note)
            dialect = engine.dialect.name
            print(f"\n{dialect}: statements per request ({args.orders} orders)\n")
            for kind in ("create", "execute"):
                print(f"{kind}: {tally.count[kind] / args.orders:.2f} statements")
                for shape in tally.shapes[kind]:
                    print(f"    {shape}")
            per_order = (tally.count["create"] + tally.count["execute"]) / args.orders
            print(f"create + execute: {per_order:.2f} statements\n")

            started, cpu = time.perf_counter(), time.thread_time()
            process_cpu = time.process_time()
            await orders(client, headers, account_id, args.orders)
            plain = time.perf_counter() - started
            loop_cpu = time.thread_time() - cpu
            process_cpu = time.process_time() - process_cpu
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            await orders(client, headers, account_id, args.orders)
            profile.disable()
            profiled = time.perf_counter() - started
            load = os.getloadavg()[0]
            print(
                f"in-process, one order after another: {args.orders / plain:,.0f} orders/s "
                f"({1e3 * plain / args.orders:.2f} ms each; {args.orders / profiled:,.0f}/s "
                f"under cProfile); 1-minute load average {load:.2f}"
            )
            print(
                f"CPU per order: {1e3 * loop_cpu / args.orders:.2f} ms on the event loop's "
                f"thread (server and in-process client), "
                f"{1e3 * (process_cpu - loop_cpu) / args.orders:.2f} ms on other threads "
                "(SQLite's, the offload pool)"
            )
            print_profile(profile, args.top, args.orders)
            if args.save:
                profile.dump_stats(args.save)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--top", type=int, default=25, help="profile entries to print")
    parser.add_argument("--save", help="also write the profile here (pstats format)")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
