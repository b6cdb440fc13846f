"""What one authenticated read costs in-process: function calls and statements per request.

Runs hyperoru in this process (``create_app`` with the bench server's settings, SQLite in
a temporary folder or ``--database-url``, JSON access log on as ``hyperoru serve`` writes
it, to ``/dev/null``) next to the bare FastAPI app of ``bench/auth/serve.py``, and sends
each route ``--requests`` times, one after another, through httpx's in-process ASGI
transport (no sockets, no HTTP parser). The fixture is ``api_read_paths.py``'s: a user
with 10 traders and one finished backtest.

Routes: the bare endpoint, ``GET /api/users/profile``, the trader list, a finished
backtest's status poll (``?include=none``) answered 200, and the same poll revalidated
with ``If-None-Match`` (304).

For each route it prints the Python function calls per request made by the server (the
profiler runs only while the app handles a request; the client's own calls are left
out), SQL statements per request, and in-process microseconds per request; then the
calls per request grouped by where the code lives, and (``--top``) the functions called
most. Function calls do not move with the machine's load, seconds do.

    .venv/bin/python bench/request_profile.py [--requests 500] [--top 15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_read_paths import PASSWORD, TAKING_TURNS, TRADERS
from auth.serve import bare_app
from profiling import CLIENT, REQUEST, Statements, by_group, entries, running_app

from hyperoru.logging_setup import configure_logging

# Finer than the order profile's groups: here the middleware stack is the subject.
GROUPS: tuple[tuple[str, str], ...] = (
    ("hyperoru/http/middleware", "request context, body guard (http/middleware)"),
    ("hyperoru/http/conditional", "conditional GET (http/conditional)"),
    ("hyperoru/http/slash_twins", "slash twins (http/slash_twins)"),
    ("hyperoru/http", "hyperoru/http, other"),
    ("hyperoru/metrics", "request metrics (metrics/asgi)"),
    ("prometheus_client", "prometheus_client"),
    ("hyperoru/auth", "authentication (auth)"),
    ("hyperoru/ratelimit", "rate limiter (ratelimit)"),
    ("/limits/", "limits (the library)"),
    ("hyperoru/logging_setup", "access log (logging, JSON)"),
    ("/logging/", "access log (logging, JSON)"),
    ("/json/", "access log (logging, JSON)"),
    ("hyperoru/errors", "errors"),
    ("hyperoru", "hyperoru: routes, services, caches"),
    ("sqlalchemy", "SQLAlchemy"),
    ("greenlet", "SQLAlchemy"),
    ("aiosqlite", "database driver"),
    ("asyncpg", "database driver"),
    ("fastapi", "FastAPI, Starlette, anyio"),
    ("starlette", "FastAPI, Starlette, anyio"),
    ("anyio", "FastAPI, Starlette, anyio"),
    ("pydantic", "pydantic"),
    ("httpx", CLIENT),
    ("httpcore", CLIENT),
    ("asyncio", "asyncio"),
    ("contextlib", "contextlib, typing, enum, re (standard library)"),
    ("typing", "contextlib, typing, enum, re (standard library)"),
    ("enum", "contextlib, typing, enum, re (standard library)"),
    ("/re/", "contextlib, typing, enum, re (standard library)"),
)


BATCHES = 5  # profiled batches per route; the cheapest is reported


@dataclass
class Route:
    name: str
    path: str  # with {backtest} filled in from the fixture
    status: int = 200
    revalidate: bool = False  # send the ETag of a first answer back in If-None-Match
    bare: bool = False


ROUTES = (
    Route("bare FastAPI endpoint", "/api/users/profile", bare=True),
    Route("`GET /api/users/profile`", "/api/users/profile"),
    Route(f"trader list, {TRADERS} traders", "/api/account/list"),
    Route("backtest status poll, 200", "/api/backtests/{backtest}?include=none"),
    Route(
        "backtest status poll, If-None-Match → 304",
        "/api/backtests/{backtest}?include=none",
        status=304,
        revalidate=True,
    ),
)


@dataclass
class Measured:
    route: Route
    requests: int
    calls: int
    statements: int
    seconds: float
    groups: Counter[str] = field(default_factory=Counter)
    stats: pstats.Stats | None = None


class ProfiledApp:
    """Runs the profiler only while the wrapped app handles a request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.profile: cProfile.Profile | None = None
        self.kind: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        token = REQUEST.set(self.kind)
        profile = self.profile
        if profile is not None:
            profile.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            if profile is not None:
                profile.disable()
            REQUEST.reset(token)

    @contextmanager
    def profiling(self, kind: str) -> Iterator[cProfile.Profile]:
        self.profile, self.kind = cProfile.Profile(), kind
        try:
            yield self.profile
        finally:
            self.profile, self.kind = None, None


def _ok(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json() if response.content else None


async def prepare(client: httpx.AsyncClient) -> int:
    """``api_read_paths.prepare``'s user over the in-process transport: signs in (the
    client keeps the bearer header), makes the traders and a finished backtest; returns
    the backtest's id."""
    body = {"username": f"profile-{os.getpid()}-{time.time_ns() % 10**6}", "password": PASSWORD}
    _ok(await client.post("/api/users/register", json=body), 201)
    token = _ok(await client.post("/api/users/login", json=body), 200)["session_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    traders = [
        _ok(
            await client.post("/api/account/", json={"name": f"t{i}", "initial_capital": 10**6}),
            201,
        )
        for i in range(TRADERS)
    ]
    order = {"account_id": traders[0]["id"], "symbol": "BTC", "side": "buy", "quantity": 0.01}
    created = _ok(await client.post("/api/orders/create", json=order), 201)
    _ok(await client.post(f"/api/orders/execute/{created['id']}"), 200)
    program = _ok(
        await client.post("/api/programs/", json={"name": "turns", "code": TAKING_TURNS}), 201
    )
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    config = {
        "symbols": ["BTC"],
        "start_date": (end - timedelta(days=3)).isoformat().replace("+00:00", "Z"),
        "end_date": end.isoformat().replace("+00:00", "Z"),
    }
    job = _ok(
        await client.post("/api/backtests", json={"program_id": program["id"], "config": config}),
        202,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _ok(await client.get(f"/api/backtests/{job['id']}?include=none"), 200)
        if state["status"] == "completed":
            return int(job["id"])
        if state["status"] in ("failed", "cancelled"):
            raise SystemExit(f"the profile's backtest ended {state['status']}: {state}")
        await asyncio.sleep(0.2)
    raise SystemExit("the profile's backtest did not finish within 120 s")


async def send_all(
    client: httpx.AsyncClient, route: Route, path: str, headers: dict[str, str], count: int
) -> None:
    for _ in range(count):
        response = await client.get(path, headers=headers)
        if response.status_code != route.status:
            raise SystemExit(f"{route.name}: {response.status_code} {response.text[:300]}")


async def measure(
    client: httpx.AsyncClient,
    profiled: ProfiledApp,
    route: Route,
    backtest_id: int,
    requests: int,
    tally: Statements,
) -> Measured:
    path = route.path.format(backtest=backtest_id)
    headers: dict[str, str] = {}
    if route.revalidate:
        first = await client.get(path)
        headers["If-None-Match"] = first.headers["etag"]
    await send_all(client, route, path, headers, max(20, requests // 10))  # warm-up
    started = time.perf_counter()
    await send_all(client, route, path, headers, requests)
    seconds = time.perf_counter() - started
    # Background work (the price refresh, the token cache's refill) runs in the requests'
    # awaits and only ever adds calls: of a few batches, the one with the fewest is the
    # requests' own cost.
    best: Measured | None = None
    batch = max(1, requests // BATCHES)
    for _ in range(BATCHES):
        before = tally.count[route.name]
        with profiled.profiling(route.name) as profile:
            await send_all(client, route, path, headers, batch)
        stats = pstats.Stats(profile)
        _, calls = by_group(stats, GROUPS)
        server = Counter({group: n for group, n in calls.items() if group != CLIENT})
        measured = Measured(
            route, batch, sum(server.values()), tally.count[route.name] - before, 0.0, server, stats
        )
        if best is None or measured.calls < best.calls:
            best = measured
    assert best is not None
    best.seconds = seconds * batch / requests
    return best


def report(rows: list[Measured], top: int) -> None:
    print(
        f"\nper request, the cheapest of {BATCHES} batches of {rows[0].requests} requests a "
        "route (one after another); 1-minute "
        f"load average {os.getloadavg()[0]:.2f}\n"
    )
    print("| route | function calls | SQL statements | µs in-process (noisy) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        n = row.requests
        print(
            f"| {row.route.name} | {row.calls / n:,.0f} | {row.statements / n:.2f} "
            f"| {1e6 * row.seconds / n:,.0f} |"
        )
    groups = Counter[str]()
    for row in rows:
        groups.update(row.groups)
    print("\nfunction calls per request by where the code lives:\n")
    print("| where | " + " | ".join(row.route.name for row in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for group, _ in groups.most_common():
        cells = " | ".join(f"{row.groups[group] / row.requests:,.0f}" for row in rows)
        print(f"| {group} | {cells} |")
    if not top:
        return
    for row in rows:
        assert row.stats is not None
        print(f"\n{row.route.name}: the {top} functions called most, per request\n")
        ranked = sorted(entries(row.stats).items(), key=lambda item: -item[1][1])
        for (filename, line, function), data in ranked[:top]:
            where = filename.split("site-packages/")[-1].split("src/")[-1]
            print(f"  {data[1] / row.requests:6.1f}  {function}  ({where}:{line})")


async def run(args: argparse.Namespace) -> None:
    tally = Statements()
    rows: list[Measured] = []
    bare = ProfiledApp(bare_app())
    transport = httpx.ASGITransport(app=bare, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        rows.append(await measure(client, bare, ROUTES[0], 0, args.requests, tally))
    # No trader runtime or bots: their ticks would run inside the profiled requests' awaits.
    async with running_app(args.database_url, log_level="INFO", runtime="off", bots="off") as app:
        profiled = ProfiledApp(app)
        transport = httpx.ASGITransport(app=profiled, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            backtest_id = await prepare(client)
            engine = app.state.services.engine.sync_engine
            event.listen(engine, "before_cursor_execute", tally.note)
            try:
                for route in ROUTES[1:]:
                    rows.append(
                        await measure(client, profiled, route, backtest_id, args.requests, tally)
                    )
            finally:
                event.remove(engine, "before_cursor_execute", tally.note)
            print(f"\n{engine.dialect.name}")
    report(rows, args.top)
    if args.save:
        for n, row in enumerate(rows):
            assert row.stats is not None
            row.stats.dump_stats(f"{args.save}-{n}.pstats")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="per route")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--top", type=int, default=15, help="most-called functions per route")
    parser.add_argument("--save", help="also write each route's profile to SAVE-<n>.pstats")
    args = parser.parse_args()
    # As `hyperoru serve` logs: one JSON access line per request, written (here, away).
    configure_logging("INFO")
    with open(os.devnull, "w") as devnull:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
