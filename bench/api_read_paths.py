"""The routes dashboards and scripts hit, against a bare FastAPI endpoint, in one run
(issue 14's "Measure"), on SQLite and on PostgreSQL.

Every server is its own uvicorn process on 127.0.0.1, started by ``bench/auth/serve.py``
with the options of ``hyperoru serve`` (``hyperoru.serving``); the load comes from
``bench/http_load.py`` in separate processes (keep-alive connections, one request in
flight each, every answer checked). Only one server is under load at a time.

For each database, on each server stack (asyncio + h11, the issue's reference; asyncio +
httptools, what ``hyperoru serve`` runs; uvloop + httptools where uvloop imports): the bare
endpoint, then a hyperoru server with ``GET /api/users/profile`` and the trader list (10
traders). On the stack ``hyperoru serve`` uses, also a trader overview, its positions, its
asset curve, a finished backtest's status (``?include=none``, as a poller asks) and order
create + execute (pairs a second, over the 10 traders). Prints req/s, p50/p99 and the
ratio to bare, and refuses to print a run in which any request failed. Every row names
its database, so a table copied without the line above it still says which it is.

    .venv/bin/python bench/api_read_paths.py --smoke            # a quick check, SQLite
    .venv/bin/python bench/api_read_paths.py                     # both databases, ~7 min
    .venv/bin/python bench/api_read_paths.py --database sqlite --seconds 5
    .venv/bin/python bench/api_read_paths.py --orders-only         # bare + orders, ~1 min
    .venv/bin/python bench/api_read_paths.py --database sqlite --serve-stack-only \
        --routes profile traders backtest                          # some routes only
    .venv/bin/python bench/api_read_paths.py --postgres-url postgresql+asyncpg://u@127.0.0.1/db

PostgreSQL is a throw-away cluster started the way ``scripts/test.sh`` starts one (the
binaries under /usr/lib/postgresql), or a scratch database on ``--postgres-url``'s server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fastapi
import httpx
import uvicorn
from auth_profile import cpu_model, running_server
from scale.postgres import require_loopback, scratch_database, throwaway_cluster
from scale.processes import SetupFailed

from hyperoru.serving import ServerStack, serve_stack

BENCH_DIR = Path(__file__).resolve().parent
LOAD_SCRIPT = BENCH_DIR / "http_load.py"
PASSWORD = "correct horse battery staple"  # a throw-away account on a throw-away database
TRADERS = 10
PLAIN = ServerStack(loop="asyncio", http="h11")
UVLOOP = ServerStack(loop="uvloop", http="httptools")

# Opens a long every 5 bars and closes it the time after: a backtest with trades.
TAKING_TURNS = """
class Strategy:
    def init(self, params):
        self.bars = 0

    def should_trade(self, data):
        self.bars += 1
        if self.bars % 5:
            return Decision("hold")
        if data.get_positions():
            return Decision("close", "BTC", reasoning="turn over")
        return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="turn over")
"""


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # with {trader} and {backtest} filled in from the fixture
    target: float  # the goal: a ratio to bare, or orders a second for orders
    kind: str = "get"


PROFILE = Route("`GET /api/users/profile`", "/api/users/profile", 0.7)
TRADER_LIST = Route(f"trader list, {TRADERS} traders", "/api/account/list", 0.5)
ON_BOTH_STACKS = (PROFILE, TRADER_LIST)
ON_SERVE_STACK = (
    Route("trader overview", "/api/account/{trader}/overview", 0.3),
    Route("positions", "/api/account/{trader}/positions", 0.3),
    Route("asset curve", "/api/account/{trader}/asset-curve", 0.3),
    # As a poller asks: the summary and progress, not the finished curve and trades.
    Route("backtest status poll", "/api/backtests/{backtest}?include=none", 0.3),
)
ORDERS = Route("order create + execute (orders/s)", "", 500.0, kind="order")
# ``--routes`` names: a run of some routes only (the bare endpoint always runs).
BY_NAME: dict[str, Route] = {
    "profile": PROFILE,
    "traders": TRADER_LIST,
    "overview": ON_SERVE_STACK[0],
    "positions": ON_SERVE_STACK[1],
    "curve": ON_SERVE_STACK[2],
    "backtest": ON_SERVE_STACK[3],
    "orders": ORDERS,
}


@dataclass
class Load:
    samples: int
    seconds: float
    latencies_us: list[int]

    @property
    def rate(self) -> float:
        return self.samples / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_us)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


@dataclass
class Row:
    route: Route
    stack: ServerStack
    load: Load


@dataclass
class Fixture:
    token: str
    trader_ids: list[int]
    backtest_id: int


@dataclass
class Section:
    database: str
    load_before: float
    bare: dict[ServerStack, Load] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    load_after: float = 0.0


# -- load --------------------------------------------------------------------------------


def apply_load(port: int, token: str, route: Route, fixture: Fixture | None, args) -> Load:
    """``args.clients`` load processes at once against one route; SystemExit on any error."""
    per_client = max(1, args.connections // args.clients)
    command = [
        sys.executable,
        str(LOAD_SCRIPT),
        "--port",
        str(port),
        "--token",
        token,
        "--kind",
        route.kind,
        "--connections",
        str(min(per_client, args.order_connections) if route.kind == "order" else per_client),
        "--seconds",
        str(args.seconds),
        "--warmup",
        str(args.warmup),
    ]
    if route.kind == "order":
        assert fixture is not None
        command += ["--account-ids", *map(str, fixture.trader_ids)]
    else:
        path = route.path
        if fixture is not None:
            path = path.format(trader=fixture.trader_ids[0], backtest=fixture.backtest_id)
        command += ["--path", path]
    with tempfile.TemporaryDirectory(prefix="hyperoru-load-") as out_dir:
        outputs = [Path(out_dir) / f"client-{n}.json" for n in range(args.clients)]
        clients = [subprocess.Popen([*command, "--out", str(out)]) for out in outputs]
        for client in clients:
            client.wait()
        if any(client.returncode for client in clients):
            raise SystemExit(f"{route.name}: a load generator failed, refusing to report")
        results = [json.loads(out.read_text()) for out in outputs]
    errors = sum(r["errors"] for r in results)
    if errors:
        seen = [s for r in results for s in r["error_samples"]]
        raise SystemExit(f"{route.name}: {errors} failed requests, refusing to report: {seen}")
    latencies = [us for r in results for us in r["latencies_us"]]
    if not latencies:
        raise SystemExit(f"{route.name}: no request completed in the window")
    return Load(len(latencies), args.seconds, latencies)


# -- fixtures over HTTP ------------------------------------------------------------------


def _ok(response: httpx.Response, status: int) -> dict:
    if response.status_code != status:
        raise SetupFailed(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json()


def sign_in(client: httpx.Client) -> str:
    # A new name each run, so a reused PostgreSQL database never answers 409.
    body = {"username": f"bench-{secrets.token_hex(4)}", "password": PASSWORD}
    _ok(client.post("/api/users/register", json=body), 201)
    return _ok(client.post("/api/users/login", json=body), 200)["session_token"]


def prepare(base_url: str, with_backtest: bool) -> Fixture:
    """A user with 10 traders, a BTC position on the first and (``with_backtest``) one
    finished backtest."""
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        token = sign_in(client)
        client.headers["Authorization"] = f"Bearer {token}"
        traders = [
            _ok(client.post("/api/account/", json={"name": f"t{i}", "initial_capital": 10**6}), 201)
            for i in range(TRADERS)
        ]
        first = traders[0]["id"]
        for symbol, quantity in (("BTC", 0.01), ("ETH", 0.1)):
            order = {"account_id": first, "symbol": symbol, "side": "buy", "quantity": quantity}
            created = _ok(client.post("/api/orders/create", json=order), 201)
            _ok(client.post(f"/api/orders/execute/{created['id']}"), 200)
        backtest_id = 0
        if with_backtest:
            backtest_id = _finished_backtest(client)
    return Fixture(token, [t["id"] for t in traders], backtest_id)


def _finished_backtest(client: httpx.Client) -> int:
    program = _ok(client.post("/api/programs/", json={"name": "turns", "code": TAKING_TURNS}), 201)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    config = {
        "symbols": ["BTC"],
        "start_date": (end - timedelta(days=3)).isoformat().replace("+00:00", "Z"),
        "end_date": end.isoformat().replace("+00:00", "Z"),
    }
    body = {"program_id": program["id"], "config": config}
    job = _ok(client.post("/api/backtests", json=body), 202)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _ok(client.get(f"/api/backtests/{job['id']}"), 200)
        if state["status"] == "completed":
            return int(job["id"])
        if state["status"] in ("failed", "cancelled"):
            raise SetupFailed(f"the bench backtest ended {state['status']}: {state}")
        time.sleep(0.2)
    raise SetupFailed("the bench backtest did not finish within 120 s")


# -- one database ------------------------------------------------------------------------


@contextlib.contextmanager
def server(
    kind: str, stack: ServerStack, work_dir: Path, database_url: str | None
) -> Iterator[str]:
    label = f"{kind}-{stack.loop}-{stack.http}"
    extra = ["--loop", stack.loop, "--http", stack.http]
    with running_server(kind, work_dir, database_url, label=label, extra_args=extra) as (url, _):
        yield url


def measure_database(
    database: str, database_url: str | None, stacks: list[ServerStack], work_dir: Path, args
) -> Section:
    section = Section(database, os.getloadavg()[0])
    for stack in stacks:
        with server("bare", stack, work_dir, None) as url:
            port = int(url.rsplit(":", 1)[1])
            section.bare[stack] = apply_load(port, "hyo_" + "0" * 43, PROFILE, None, args)
    for stack in stacks:
        everything = stack == serve_stack()
        with server("hyperoru", stack, work_dir, database_url) as url:
            port = int(url.rsplit(":", 1)[1])
            if args.orders_only:
                fixture = prepare(url, with_backtest=False)
                routes: tuple[Route, ...] = (ORDERS,)
            else:
                routes = ON_BOTH_STACKS + ((*ON_SERVE_STACK, ORDERS) if everything else ())
                if args.routes:
                    chosen = {BY_NAME[name] for name in args.routes}
                    routes = tuple(route for route in routes if route in chosen)
                backtest = ON_SERVE_STACK[3] in routes
                fixture = prepare(url, with_backtest=backtest)
            for route in routes:
                load = apply_load(port, fixture.token, route, fixture, args)
                section.rows.append(Row(route, stack, load))
    section.load_after = os.getloadavg()[0]
    return section


@contextlib.asynccontextmanager
async def postgres(args, work_dir: Path) -> AsyncIterator[str]:
    if args.postgres_url:
        require_loopback(args.postgres_url)
        async with scratch_database(args.postgres_url) as url:
            yield url
        return
    async with throwaway_cluster(work_dir) as admin, scratch_database(admin) as url:
        yield url


# -- report ------------------------------------------------------------------------------


def report_header(args) -> None:
    print(
        f"\nmachine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__}, FastAPI {fastapi.__version__}; "
        f"`hyperoru serve` runs on {serve_stack().name}"
    )
    print(
        f"load: bench/http_load.py, {args.clients} process(es), {args.connections} "
        f"connections ({args.order_connections} for orders), {args.seconds:g} s after a "
        f"{args.warmup:g} s warm-up per route, one server at a time\n",
        flush=True,
    )


def report(section: Section) -> None:
    reference_stack = PLAIN if PLAIN in section.bare else next(iter(section.bare))
    reference = section.bare[reference_stack]
    print(
        f"{section.database}: 1-minute load average {section.load_before:.2f} before, "
        f"{section.load_after:.2f} after\n"
    )
    print(
        "| database | route | server stack | req/s | p50 ms | p99 ms | ÷ bare, same stack "
        f"| ÷ bare {reference_stack.name} | goal |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for stack, load in section.bare.items():
        ratio = load.rate / reference.rate
        print(_line(section, "bare FastAPI endpoint", stack, load, "1.00", f"{ratio:.2f}", ""))
    for row in section.rows:
        print(_row(row, section, reference))
    print(flush=True)


def _line(
    section: Section, name: str, stack: ServerStack, load: Load, same: str, plain: str, goal: str
) -> str:
    return (
        f"| {section.database} | {name} | {stack.name} | {load.rate:,.0f} "
        f"| {load.percentile(0.5):.2f} | {load.percentile(0.99):.2f} | {same} | {plain} | {goal} |"
    )


def _row(row: Row, section: Section, reference: Load) -> str:
    if row.route.kind == "order":
        goal = f"≥ {row.route.target:.0f}/s on SQLite"
        if section.database == "SQLite":
            goal += ": " + ("met" if row.load.rate >= row.route.target else "missed")
        return _line(section, row.route.name, row.stack, row.load, "-", "-", goal)
    same = row.load.rate / section.bare[row.stack].rate
    plain = row.load.rate / reference.rate
    verdict = "met" if plain >= row.route.target else "missed"
    goal = f"≥ {row.route.target}: {verdict}"
    return _line(section, row.route.name, row.stack, row.load, f"{same:.2f}", f"{plain:.2f}", goal)


# -- main --------------------------------------------------------------------------------


async def run(args) -> None:
    stacks = [serve_stack()]
    if not args.serve_stack_only:
        # asyncio + h11 is the reference; uvloop only for the record, where it
        # imports (bench/README.md says why `hyperoru serve` does not run on it).
        extra = [PLAIN, UVLOOP] if importlib.util.find_spec("uvloop") else [PLAIN]
        stacks = list(dict.fromkeys([PLAIN, *stacks, *extra]))
    report_header(args)
    with tempfile.TemporaryDirectory(prefix="hyperoru-bench-") as tmp:
        work_dir = Path(tmp)
        # The throw-away cluster runs as postgres and must get in.
        await asyncio.to_thread(work_dir.chmod, 0o755)
        if args.database in ("sqlite", "both"):
            report(measure_database("SQLite", None, stacks, work_dir / "sqlite", args))
        if args.database in ("postgres", "both"):
            (work_dir / "pg-cluster").mkdir()
            async with postgres(args, work_dir / "pg-cluster") as url:
                pg_dir = work_dir / "postgres"
                report(measure_database("PostgreSQL", url, stacks, pg_dir, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres-url", help="a loopback server to make a scratch database on")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured load per route")
    parser.add_argument("--warmup", type=float, default=3.0, help="load before measuring")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--order-connections", type=int, default=16, help="for create + execute (per process)"
    )
    parser.add_argument("--clients", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--serve-stack-only", action="store_true", help="skip the asyncio + h11 comparison"
    )
    parser.add_argument(
        "--orders-only",
        action="store_true",
        help="the bare endpoint and the orders row only, on `hyperoru serve`'s stack",
    )
    parser.add_argument(
        "--routes",
        nargs="+",
        choices=sorted(BY_NAME),
        help="only these routes (and the bare endpoint); default: all",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick check that everything answers: SQLite, 1 s per route, 8 connections",
    )
    args = parser.parse_args()
    if args.orders_only:
        args.serve_stack_only = True
    if args.smoke:
        if "--database" not in sys.argv:
            args.database = "sqlite"
        args.seconds, args.warmup, args.connections, args.order_connections = 1.0, 0.3, 8, 4
        args.serve_stack_only = True
    try:
        asyncio.run(run(args))
    except SetupFailed as exc:
        raise SystemExit(f"setup failed: {exc}") from None


if __name__ == "__main__":
    main()
