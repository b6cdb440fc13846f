"""Soak and fault run of the scaled shape (issue 22): mixed load for a while, with a
worker, an API process, Redis and PostgreSQL each failing once, and what it cost.

Starts, as real processes on 127.0.0.1 (the way tests/e2e/test_scaled_shape.py does):
a throw-away PostgreSQL cluster, a Redis server, two API processes (``hyperoru serve``
on ports of their own, ``HYPERORU_RUNTIME=off``) and two ``hyperoru worker`` processes.
Creates ``--traders`` builtin-model traders on a ``--interval`` schedule, then runs for
``--duration`` seconds:

- reads (trader list, positions, decisions, profile) from ``--readers`` loops;
- a login every ``--login-every`` seconds;
- a market order every ``--order-every`` seconds, each with a client order id, retried
  with the same id until the server acknowledges it (as a careful client would);
- ``--ws-clients`` WebSocket clients subscribed to prices and trades, reconnecting when
  dropped;
- a program backtest every ``--backtest-every`` seconds, polled until it ends;

every request alternating between the two API processes. At the ``--faults`` points (a
fraction of the duration, or seconds) it kills a worker with ``kill -9`` (restarted once
its traders have moved), kills an API process with ``kill -9`` (restarted at once, as a
supervisor would), restarts Redis and restarts PostgreSQL. A fault is recovered when both
API processes answer ``/api/health`` 200 and an authenticated read, and every trader is
leased to a live worker.

Then it reports (markdown on stdout, everything in ``--out`` as JSON): requests served,
errors inside and outside the fault windows (each one with its time, route, status,
error code, request id and distance to the nearest fault window), time to recover from
each fault, cycles started without a record and whether they ran again, the schedule's
late gaps and skipped slots with their cause, orders lost or doubled (client order ids
against the ledger), each process life's memory (RSS over its life, and its trend over
the second half, the growth criterion), p99 latency before, during and after each
fault, and the load average. ``soak_report.py`` holds the explaining parts.

    .venv/bin/python bench/soak.py --duration 300 --traders 40 --interval 30   # 5 minutes
    .venv/bin/python bench/soak.py                                            # 30 minutes

Every process and the temporary folder are removed when the run ends (``--keep`` keeps
the folder and its logs). ``--memory-probe 60`` (diagnosis only: it slows the processes)
has each process write its objects by type and tracemalloc's top allocation sites every
60 s into the folder, for ``bench/memory_probe_diff.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from scale.postgres import restartable_cluster
from scale.processes import Processes, SetupFailed, Spawned, wait_http_ok, wait_log_text
from soak_report import (
    Window,
    error_entry,
    error_line,
    gaps_by_cause,
    memory_life,
    per_trader,
    schedule_gaps,
)
from soak_report import lost_cycles as lost_cycles_outcome
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect as ws_connect

MEMORY_PROBE = Path(__file__).resolve().parent / "scale" / "memory_probe"
SECRET_KEY = "soak-bench-secret-key-0123456789abcdef-0123456789"
PASSWORD = "Soak-bench-Passw0rd!"
UNTHROTTLED = str(10**9)
TRADERS_PER_USER = 50
LOAD_USERS = 4
FAULT_KINDS = ("worker", "api", "redis", "postgres")
PROGRAM = """
class Strategy:
    def init(self, params):
        self.bars = 0

    def should_trade(self, data):
        self.bars += 1
        if self.bars % 6:
            return Decision("hold")
        if data.get_positions():
            return Decision("close", "BTC", reasoning="soak")
        return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="soak")
"""


# -- what is recorded ---------------------------------------------------------------------


@dataclass
class Failure:
    """What a failed call got: the answer's status and the contract's error fields, or
    the exception that ended it."""

    detail: str  # "HTTP 503", or the exception's class
    status: int | None = None
    code: str = ""  # the body's ``code``, or the exception's class
    message: str = ""
    request_id: str = ""  # to find the server's log lines of it
    service: str = ""  # ``details.service`` of a 503


@dataclass
class Call:
    kind: str
    target: str
    started: float
    seconds: float
    ok: bool
    route: str = ""  # the path's template
    failure: Failure | None = None

    @property
    def detail(self) -> str:
        return "" if self.failure is None else self.failure.detail


@dataclass
class Fault:
    kind: str
    planned_at: float
    at: float = 0.0
    recovered: float | None = None
    note: str = ""
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # Wall-clock time of the fault, to compare with the workers' log lines.
    wall: datetime | None = None

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered is None else self.recovered - self.at


@dataclass
class Record:
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Client order id -> what the client learned: "unconfirmed" (never acknowledged),
    # "acknowledged" (created, never executed), else the execution's status ("filled" …).
    orders: dict[str, str] = field(default_factory=dict)
    ws: Counter[str] = field(default_factory=Counter)
    backtests: Counter[str] = field(default_factory=Counter)
    # (label, pid) -> [(time, rss bytes)]
    memory: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))

    def call(
        self, kind: str, target: str, route: str, started: float, failure: Failure | None = None
    ) -> None:
        seconds = time.monotonic() - started
        self.calls.append(Call(kind, target, started, seconds, failure is None, route, failure))


def _answer_failure(response: httpx.Response) -> Failure:
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    if not isinstance(body, dict):
        body = {}
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return Failure(
        f"HTTP {response.status_code}",
        status=response.status_code,
        code=str(body.get("code") or ""),
        message=str(body.get("message") or response.text[:200]),
        request_id=str(body.get("request_id") or response.headers.get("x-request-id", "")),
        service=str(details.get("service") or ""),
    )


def _exception_failure(exc: BaseException) -> Failure:
    name = type(exc).__name__
    return Failure(name, code=name, message=str(exc)[:200])


# -- the processes ------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Shape:
    """PostgreSQL, Redis, API processes A and B, workers 1 and 2; each restartable."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        restart_postgres: Callable[[], None],
        args: argparse.Namespace,
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.restart_postgres = restart_postgres
        self.processes = Processes(workdir)
        self.redis_port = _free_port()
        self.api_ports = {"a": _free_port(), "b": _free_port()}
        self.apis: dict[str, Spawned] = {}
        self.workers: dict[str, Spawned] = {}
        self.redis: Spawned | None = None
        self._lives: Counter[str] = Counter()
        self.restarts: list[asyncio.Task[Any]] = []
        self._args = args

    def _label(self, name: str) -> str:
        self._lives[name] += 1
        return name if self._lives[name] == 1 else f"{name}-life{self._lives[name]}"

    def env(self, name: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
        data_dir = self.workdir / f"data-{name}"
        data_dir.mkdir(exist_ok=True)
        env.update(
            HYPERORU_DATA_DIR=str(data_dir),
            HYPERORU_DATABASE_URL=self.database_url,
            HYPERORU_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            HYPERORU_SECRET_KEY=SECRET_KEY,
            HYPERORU_MARKET_SYMBOLS="BTC,ETH",
            HYPERORU_RATE_LIMIT_USER_PER_MINUTE=UNTHROTTLED,
            HYPERORU_RATE_LIMIT_IP_PER_MINUTE=UNTHROTTLED,
            HYPERORU_RATE_LIMIT_AUTH_PER_MINUTE=UNTHROTTLED,
            HYPERORU_RATE_LIMIT_JOBS_PER_MINUTE=UNTHROTTLED,
            HYPERORU_RUNTIME_LEASE_SECONDS=str(self._args.lease),
            HYPERORU_LOG_LEVEL=self._args.log_level,
            **extra,
        )
        if self._args.memory_probe:
            # bench/scale/memory_probe/sitecustomize.py: one file per process life.
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(MEMORY_PROBE), env.get("PYTHONPATH")])
            )
            env["HYPERORU_BENCH_MEMORY_PROBE"] = str(self._args.memory_probe)
            life = self._lives[name] or 1  # _label counted this life already
            out = self.workdir / f"memory-{name}-life{life}.jsonl"
            env["HYPERORU_BENCH_MEMORY_PROBE_OUT"] = str(out)
        return env

    def start_redis(self) -> Spawned:
        argv = [
            "redis-server",
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]
        self.redis = self.processes.start(
            self._label("redis"), argv, env=dict(os.environ), cwd=self.workdir
        )
        return self.redis

    async def wait_redis(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            done = await asyncio.to_thread(
                subprocess.run,
                ["redis-cli", "-p", str(self.redis_port), "ping"],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.stdout.strip() == "PONG":
                return
            if time.monotonic() > deadline:
                raise SetupFailed("redis-server did not answer")
            await asyncio.sleep(0.1)

    def base_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.api_ports[name]}"

    async def start_api(self, name: str) -> Spawned:
        argv = [sys.executable, "-m", "hyperoru", "serve", "--port", str(self.api_ports[name])]
        spawned = self.processes.start(
            self._label(f"api-{name}"),
            argv,
            env=self.env(f"api-{name}", HYPERORU_RUNTIME="off"),
            cwd=self.workdir,
        )
        self.apis[name] = spawned
        await wait_http_ok(f"{self.base_url(name)}/api/health", spawned, within_seconds=180)
        return spawned

    async def start_worker(self, name: str) -> Spawned:
        argv = [sys.executable, "-m", "hyperoru", "worker"]
        spawned = self.processes.start(
            self._label(f"worker-{name}"), argv, env=self.env(f"worker-{name}"), cwd=self.workdir
        )
        self.workers[name] = spawned
        await wait_log_text(spawned, "worker started", within_seconds=180)
        return spawned

    def live_pids(self) -> dict[str, int]:
        """Label -> pid of every hyperoru process running now."""
        return {s.label: s.pid for s in [*self.apis.values(), *self.workers.values()] if s.alive()}


def _kill_hard(spawned: Spawned) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(spawned.pid, signal.SIGKILL)
    spawned.popen.wait()


def _uptime() -> str:
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- setting up the load ------------------------------------------------------------------


@dataclass
class LoadUser:
    name: str
    headers: dict[str, str]
    trader_id: int


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SetupFailed(f"{what}: HTTP {response.status_code} {response.text[:200]}")
    return response.json() if response.content else None


async def _register(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    body = {"username": name, "password": PASSWORD}
    _expect(await http.post("/api/users/register", json=body), 201, f"register {name}")
    login = _expect(await http.post("/api/users/login", json=body), 200, f"login {name}")
    return {"Authorization": f"Bearer {login['session_token']}"}


async def _trader(
    http: httpx.AsyncClient, headers: dict[str, str], name: str, schedule: int | None
) -> int:
    created = _expect(
        await http.post(
            "/api/account/", json={"name": name, "llm_provider": "builtin"}, headers=headers
        ),
        201,
        f"create {name}",
    )
    strategy: dict[str, Any] = {"symbols": ["BTC"]}
    if schedule is None:
        strategy["scheduled_trigger_enabled"] = False
    else:
        strategy.update(trigger_interval=schedule, scheduled_trigger_enabled=True)
    path = f"/api/account/{created['id']}/strategy"
    _expect(await http.put(path, json=strategy, headers=headers), 200, f"schedule {name}")
    return int(created["id"])


async def set_up(shape: Shape, args: argparse.Namespace) -> tuple[list[LoadUser], list[int], int]:
    """The load users (each with a paper trader for orders), the scheduled traders and a
    program for backtests."""
    async with httpx.AsyncClient(base_url=shape.base_url("a"), timeout=60) as http:
        users = []
        for index in range(LOAD_USERS):
            headers = await _register(http, f"soak-load-{index}")
            trader_id = await _trader(http, headers, f"orders-{index}", None)
            users.append(LoadUser(f"soak-load-{index}", headers, trader_id))
        traders: list[int] = []
        headers = {}
        for index in range(args.traders):
            if index % TRADERS_PER_USER == 0:
                headers = await _register(http, f"soak-traders-{index // TRADERS_PER_USER}")
            traders.append(await _trader(http, headers, f"soak-{index}", args.interval))
        program = _expect(
            await http.post(
                "/api/programs/", json={"name": "soak", "code": PROGRAM}, headers=users[0].headers
            ),
            201,
            "create the backtest program",
        )
    return users, traders, int(program["id"])


# -- the load -----------------------------------------------------------------------------


class Load:
    def __init__(
        self,
        shape: Shape,
        record: Record,
        users: list[LoadUser],
        program_id: int,
        args: argparse.Namespace,
    ) -> None:
        self.shape = shape
        self.record = record
        self.users = users
        self.program_id = program_id
        self.args = args
        self.stopping = asyncio.Event()
        self._turn = itertools.count()
        self._order_ids = itertools.count(1)
        self.clients = {
            name: httpx.AsyncClient(base_url=shape.base_url(name), timeout=args.request_timeout)
            for name in ("a", "b")
        }

    def _target(self) -> str:
        return "ab"[next(self._turn) % 2]

    async def request(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        target: str | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        expected: tuple[int, ...] = (200,),
        route: str | None = None,
    ) -> httpx.Response | None:
        """One HTTP request, recorded under ``route`` (the path's template); None when it
        never got an answer. Any answer but an ``expected`` one is an error."""
        target = target or self._target()
        started = time.monotonic()
        route = route or path
        try:
            response = await self.clients[target].request(
                method, path, headers=headers, json=json_body
            )
        except httpx.HTTPError as exc:
            self.record.call(kind, target, route, started, _exception_failure(exc))
            return None
        ok = response.status_code in expected
        self.record.call(kind, target, route, started, None if ok else _answer_failure(response))
        return response

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def reader(self, index: int) -> None:
        paths = (
            "/api/account/list",
            "/api/account/{id}/positions",
            "/api/users/profile",
            "/api/account/{id}/decisions?limit=5",
            "/api/orders/account/{id}?limit=5",
        )
        for step in itertools.count(index):
            if self.stopping.is_set():
                return
            user = self.users[step % len(self.users)]
            route = paths[step % len(paths)]
            path = route.format(id=user.trader_id)
            await self.request("read", "GET", path, headers=user.headers, route=route)
            await self._pause(self.args.read_pause)

    async def logins(self) -> None:
        for step in itertools.count():
            if self.stopping.is_set():
                return
            body = {"username": self.users[step % len(self.users)].name, "password": PASSWORD}
            await self.request("login", "POST", "/api/users/login", json_body=body)
            await self._pause(self.args.login_every)

    async def _until_answered(
        self, route: str, path: str, user: LoadUser, body: Any, expected: tuple[int, ...]
    ) -> httpx.Response | None:
        """Retry (on either process) until an ``expected`` answer, for up to
        ``--order-retry-seconds``: the client order id makes a repeated create harmless."""
        deadline = time.monotonic() + self.args.order_retry_seconds
        while time.monotonic() < deadline:
            response = await self.request(
                "order",
                "POST",
                path,
                headers=user.headers,
                json_body=body,
                expected=expected,
                route=route,
            )
            if response is not None and response.status_code in expected:
                return response
            await asyncio.sleep(1.0)
        return None

    async def _order(self, user: LoadUser, side: str) -> None:
        client_id = f"soak-{next(self._order_ids)}"
        self.record.orders[client_id] = "unconfirmed"
        body = {
            "account_id": user.trader_id,
            "symbol": "BTC",
            "side": side,
            "order_type": "market",
            "quantity": "0.001",
            "client_order_id": client_id,
        }
        created = await self._until_answered(
            "/api/orders/create", "/api/orders/create", user, body, (200, 201)
        )
        if created is None:
            return
        self.record.orders[client_id] = "acknowledged"
        # 409: an earlier attempt executed it, and its answer was lost on the way.
        path = f"/api/orders/execute/{created.json()['id']}"
        executed = await self._until_answered(
            "/api/orders/execute/{id}", path, user, None, (200, 409)
        )
        if executed is None:
            return
        answer = executed.json()
        status = (
            answer.get("execution_status")
            if executed.status_code == 200
            else answer["details"].get("status")
        )
        self.record.orders[client_id] = str(status)

    async def orders(self) -> None:
        running: set[asyncio.Task[None]] = set()
        for step in itertools.count():
            if self.stopping.is_set():
                break
            user = self.users[step % len(self.users)]
            # Orders run side by side: one stuck on a fault must not stop the next.
            task = asyncio.create_task(self._order(user, ("buy", "sell")[(step // 4) % 2]))
            running.add(task)
            task.add_done_callback(running.discard)
            await self._pause(self.args.order_every)
        await asyncio.gather(*running)

    async def ws_client(self, index: int) -> None:
        user = self.users[index % len(self.users)]
        token = user.headers["Authorization"].removeprefix("Bearer ")
        for attempt in itertools.count():
            if self.stopping.is_set():
                return
            target = "ab"[(index + attempt) % 2]
            url = self.shape.base_url(target).replace("http://", "ws://") + "/ws"
            started = time.monotonic()
            opened = False
            try:
                async with ws_connect(f"{url}?session_token={token}", open_timeout=10) as ws:
                    await asyncio.wait_for(ws.recv(), 10)  # connected
                    await ws.send(
                        json.dumps(
                            {"type": "subscribe", "data": {"channels": ["prices", "trades"]}}
                        )
                    )
                    opened = True
                    self.record.call("ws_connect", target, "/ws", started)
                    self.record.ws["connected"] += 1
                    while not self.stopping.is_set():
                        try:
                            await asyncio.wait_for(ws.recv(), 1.0)
                            self.record.ws["messages"] += 1
                        except TimeoutError:
                            continue
                    return
            except Exception as exc:  # dropped, or never opened: reconnect
                if self.stopping.is_set():
                    return
                if opened:
                    self.record.ws["dropped"] += 1
                else:
                    self.record.call("ws_connect", target, "/ws", started, _exception_failure(exc))
            await self._pause(1.0)

    async def backtests(self) -> None:
        user = self.users[0]
        body = {
            "program_id": self.program_id,
            "config": {
                "symbols": ["BTC"],
                "start_date": "2026-01-01T00:00:00Z",
                "end_date": "2026-01-08T00:00:00Z",
                "interval": "1h",
            },
        }
        while not self.stopping.is_set():
            response = await self.request(
                "backtest",
                "POST",
                "/api/backtests",
                headers=user.headers,
                json_body=body,
                expected=(202,),
            )
            if response is not None and response.status_code == 202:
                await self._follow_backtest(user, int(response.json()["id"]))
            elif response is not None:
                self.record.backtests[f"refused HTTP {response.status_code}"] += 1
            await self._pause(self.args.backtest_every)

    async def _follow_backtest(self, user: LoadUser, backtest_id: int) -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            await self._pause(2)
            if self.stopping.is_set():
                self.record.backtests["running at the end"] += 1
                return
            response = await self.request(
                "backtest",
                "GET",
                f"/api/backtests/{backtest_id}",
                headers=user.headers,
                route="/api/backtests/{id}",
            )
            if response is None or response.status_code != 200:
                continue
            status = response.json()["status"]
            if status in ("completed", "failed", "cancelled"):
                self.record.backtests[status] += 1
                return
        self.record.backtests["not finished"] += 1

    async def run(self) -> None:
        tasks = [
            *(self.reader(i) for i in range(self.args.readers)),
            self.logins(),
            self.orders(),
            *(self.ws_client(i) for i in range(self.args.ws_clients)),
            self.backtests(),
        ]
        await asyncio.gather(*tasks)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


# -- watching -----------------------------------------------------------------------------


def _rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


async def sample_memory(shape: Shape, record: Record, every: float) -> None:
    while True:
        for label, pid in shape.live_pids().items():
            rss = _rss(pid)
            if rss is not None:
                record.memory[f"{label} (pid {pid})"].append((time.monotonic(), rss))
        await asyncio.sleep(every)


async def recovered(shape: Shape, load: Load, traders: list[int]) -> bool:
    """Both API processes ready and answering a user, every trader leased to a live worker."""
    user = load.users[0]
    for name in ("a", "b"):
        try:
            async with httpx.AsyncClient(base_url=shape.base_url(name), timeout=3) as http:
                if (await http.get("/api/health")).status_code != 200:
                    return False
                if (await http.get("/api/users/profile", headers=user.headers)).status_code != 200:
                    return False
        except httpx.HTTPError:
            return False
    live = {str(s.pid) for s in shape.workers.values() if s.alive()}
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(shape.database_url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        rows = await connection.fetch(
            "SELECT account_id, lease_owner FROM trader_runtime "
            "WHERE account_id = ANY($1::int[]) AND lease_expires_at > now()",
            traders,
        )
    except asyncpg.PostgresError:
        return False
    finally:
        await connection.close()
    held = {row["account_id"] for row in rows if row["lease_owner"].split(":")[1] in live}
    return held == set(traders)


async def worker_leases(shape: Shape) -> Counter[int]:
    connection = await asyncpg.connect(_asyncpg_dsn(shape.database_url))
    try:
        rows = await connection.fetch(
            "SELECT lease_owner FROM trader_runtime WHERE lease_owner IS NOT NULL"
        )
    finally:
        await connection.close()
    return Counter(int(row["lease_owner"].split(":")[1]) for row in rows)


async def inject(
    fault: Fault, shape: Shape, load: Load, traders: list[int], args: argparse.Namespace
) -> None:
    fault.at = time.monotonic()
    fault.wall = datetime.now(UTC)
    fault.load_average = os.getloadavg()
    restart: Callable[[], Awaitable[Any]] | None = None
    if fault.kind == "worker":
        held = await worker_leases(shape)
        name, victim = max(shape.workers.items(), key=lambda item: held.get(item[1].pid, 0))
        fault.note = f"killed worker {name} (pid {victim.pid}, {held.get(victim.pid, 0)} leases)"
        _kill_hard(victim)

        def restart() -> Awaitable[Any]:  # once its traders have moved: a supervisor's restart
            return shape.start_worker(name)

    elif fault.kind == "api":
        victim = shape.apis["a"]
        fault.note = f"killed API process a (pid {victim.pid}); restarted at once"
        _kill_hard(victim)
        await shape.start_api("a")
    elif fault.kind == "redis":
        assert shape.redis is not None
        shape.redis.popen.terminate()
        shape.redis.popen.wait()
        await asyncio.sleep(args.redis_down)
        shape.start_redis()
        await shape.wait_redis()
        fault.note = f"Redis stopped, started again {args.redis_down:g} s later (empty)"
    elif fault.kind == "postgres":
        await asyncio.to_thread(shape.restart_postgres)
        fault.note = "PostgreSQL restarted (fast shutdown: every session ended)"
    deadline = fault.at + args.recovery_limit
    while time.monotonic() < deadline:
        if await recovered(shape, load, traders):
            fault.recovered = time.monotonic()
            break
        await asyncio.sleep(0.25)
    if restart is not None:
        # In the background: the next fault does not wait for the new process.
        shape.restarts.append(asyncio.create_task(restart()))


# -- the report ---------------------------------------------------------------------------


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def _overlaps(call: Call, fault: Fault, settle: float, end: float) -> bool:
    """The call was under way at some point of the fault's window (a request in flight
    when the fault struck belongs to it)."""
    closes = (fault.recovered if fault.recovered is not None else end) + settle
    return call.started + call.seconds >= fault.at and call.started <= closes


def _in_fault_window(call: Call, faults: list[Fault], settle: float, end: float) -> bool:
    return any(_overlaps(call, f, settle, end) for f in faults if f.at)


async def ledger_facts(database_url: str, traders: list[int], until: datetime) -> dict[str, Any]:
    """What the database holds: the scheduled cycles recorded for triggers before
    ``until``, and every order of the load."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        decisions = await connection.fetch(
            "SELECT account_id, trigger, status FROM decision_records "
            "WHERE account_id = ANY($1::int[])",
            traders,
        )
        orders = await connection.fetch(
            "SELECT o.client_order_id, o.account_id, o.status, o.quantity, o.filled_quantity, "
            "count(f.id) AS fills, coalesce(sum(f.quantity), 0) AS filled "
            "FROM trading_orders o LEFT JOIN trading_fills f ON f.order_id = o.id "
            "WHERE o.client_order_id LIKE 'soak-%' GROUP BY o.id"
        )
    finally:
        await connection.close()
    starts: dict[int, list[datetime]] = defaultdict(list)
    recorded: set[tuple[int, str]] = set()
    statuses: Counter[str] = Counter()
    for row in decisions:
        trigger = json.loads(row["trigger"]) if isinstance(row["trigger"], str) else row["trigger"]
        if trigger.get("type") == "scheduled" and _utc(str(trigger["at"])) < until:
            at = str(trigger["at"])
            recorded.add((row["account_id"], at))
            starts[row["account_id"]].append(_utc(at))
            statuses[row["status"]] += 1
    return {
        "records": {
            "cycles": sum(statuses.values()),
            "by_status": dict(statuses),
            "traders_with_none": sum(1 for t in traders if not starts.get(t)),
        },
        "recorded_cycles": recorded,
        "recorded_starts": starts,
        "orders": [dict(row) for row in orders],
    }


Span = tuple[datetime, datetime | None]


@dataclass
class WorkerLogs:
    """What the workers' logs say about cycles, keyed by (trader, trigger time)."""

    # (logged start, logged end or None) of every cycle started before the load ended
    # (the workers ran ``--drain`` seconds longer, for those cycles to finish).
    started: dict[tuple[int, str], Span]
    # Cycles cut short that the worker taking their trader over ran again (by the cut
    # short cycle's trigger time), and cycles an outage cut short.
    run_again: set[tuple[int, datetime]]
    cut_short: set[tuple[int, datetime]]
    # Every start, to see that a trader ran again after an outage cut its cycle.
    all_starts: set[tuple[int, datetime]]
    # How each ended cycle ended, as its ``cycle_ended`` line says (ok, skipped: taken
    # over in the middle, timeout: stopped, crashed: an outage or a bug).
    outcomes: dict[tuple[int, str], str]


def worker_logs(shape: Shape, until: datetime) -> WorkerLogs:
    starts: dict[tuple[int, str], datetime] = {}
    ends: dict[tuple[int, str], datetime] = {}
    run_again: set[tuple[int, datetime]] = set()
    cut_short: set[tuple[int, datetime]] = set()
    all_starts: set[tuple[int, datetime]] = set()
    outcomes: dict[tuple[int, str], str] = {}
    for spawned in shape.processes.started:
        if not spawned.label.startswith("worker"):
            continue
        for line in spawned.log_lines():
            if '"event": "cycle_' not in line:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                account_id = int(entry["account_id"])
                event = entry["event"]
                if event == "cycle_run_again":
                    run_again.add((account_id, _utc(entry["cut_short_at"])))
                    continue
                if event == "cycle_cut_short":
                    cut_short.add((account_id, _utc(entry["trigger_at"])))
                    continue
                key = (account_id, str(entry["trigger_at"]))
                logged = _utc(entry["ts"])
                if event == "cycle_started":
                    all_starts.add((account_id, _utc(key[1])))
                    if logged < until:
                        starts[key] = logged
                elif event == "cycle_ended":
                    ends[key] = logged
                    outcomes[key] = str(entry.get("outcome"))
    started = {key: (begun, ends.get(key)) for key, begun in starts.items()}
    return WorkerLogs(started, run_again, cut_short, all_starts, outcomes)


def lost_by_fault(
    lost: dict[tuple[int, str], Span], faults: list[Fault], settle: float
) -> Counter[str]:
    """Each cycle lost in flight, put down to the first fault whose window (the fault to
    its recovery, plus ``settle``) it overlapped: struck while it ran, or started before
    the fault was over."""
    blamed: Counter[str] = Counter()
    for begun, ended in lost.values():
        struck = []
        for fault in faults:
            if fault.wall is None:
                continue
            lasted = (fault.recovery_seconds or 0.0) + settle
            closes = fault.wall + timedelta(seconds=lasted)
            if begun <= closes and (ended is None or fault.wall <= ended):
                struck.append(fault.kind)
        blamed[struck[0] if struck else "no fault"] += 1
    return blamed


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _windows(faults: list[Fault], settle: float, load_start: float, end: float) -> list[Window]:
    return [
        Window(
            f.kind,
            f.at - load_start,
            (f.recovered if f.recovered is not None else end) + settle - load_start,
        )
        for f in faults
        if f.at
    ]


def _errors(record: Record, windows: list[Window], load_start: float) -> list[dict[str, Any]]:
    errors = []
    for call in record.calls:
        if call.failure is None:
            continue
        failure = call.failure
        facts = {
            "kind": call.kind,
            "target": call.target,
            "route": call.route,
            "status": failure.status,
            "code": failure.code,
            "service": failure.service,
            "message": failure.message,
            "request_id": failure.request_id,
        }
        errors.append(
            error_entry(
                at=call.started - load_start, seconds=call.seconds, facts=facts, windows=windows
            )
        )
    return errors


def summarise(
    record: Record,
    facts: dict[str, Any],
    logs: WorkerLogs,
    run: dict[str, Any],
    load_wall: datetime,
    args: argparse.Namespace,
) -> dict[str, Any]:
    end = run["load_end"]
    inside = [c for c in record.calls if _in_fault_window(c, record.faults, args.settle, end)]
    outside = [c for c in record.calls if not _in_fault_window(c, record.faults, args.settle, end)]
    errors_outside = Counter(f"{c.kind}: {c.detail}" for c in outside if not c.ok)
    errors_inside = Counter(f"{c.kind}: {c.detail}" for c in inside if not c.ok)
    windows = _windows(record.faults, args.settle, run["load_start"], end)
    errors = _errors(record, windows, run["load_start"])
    faults = []
    for fault in record.faults:
        recovered_at = fault.recovered if fault.recovered is not None else end
        window = args.window

        def p99(low: float, high: float) -> float | None:
            values = [c.seconds for c in record.calls if c.ok and low <= c.started < high]
            found = _p99(values)
            return None if found is None else round(found * 1000, 1)

        faults.append(
            {
                "kind": fault.kind,
                "at_s": round(fault.at - run["load_start"], 1),
                "note": fault.note,
                "recovery_s": None
                if fault.recovery_seconds is None
                else round(fault.recovery_seconds, 2),
                "window_s": [
                    round(fault.at - run["load_start"], 1),
                    round(recovered_at + args.settle - run["load_start"], 1),
                ],
                "errors_in_window": sum(
                    1 for c in record.calls if not c.ok and _overlaps(c, fault, args.settle, end)
                ),
                "p99_ms_before": p99(fault.at - window, fault.at),
                "p99_ms_during": p99(fault.at, recovered_at),
                "p99_ms_after": p99(recovered_at, recovered_at + window),
                "load_average": [round(x, 2) for x in fault.load_average],
            }
        )
    memory = {}
    for label, samples in record.memory.items():
        life = memory_life(samples, warmup=args.memory_warmup, mark_every=args.memory_mark)
        if life is not None:
            memory[label] = life
    ledger = {row["client_order_id"]: row for row in facts["orders"]}
    acknowledged = [cid for cid, seen in record.orders.items() if seen != "unconfirmed"]
    lost = [cid for cid in acknowledged if cid not in ledger]
    doubled = [
        cid for cid, row in ledger.items() if row["fills"] > 1 or row["filled"] > row["quantity"]
    ]
    unfilled = [
        cid
        for cid, seen in record.orders.items()
        if seen == "filled" and ledger.get(cid, {}).get("status") != "filled"
    ]

    def since(at: datetime) -> float:
        return (at - load_wall).total_seconds()

    recorded = facts.pop("recorded_cycles")
    starts = facts.pop("recorded_starts")
    lost_cycles = {key: span for key, span in logs.started.items() if key not in recorded}
    lost_keys = [(trader, since(_utc(at))) for trader, at in lost_cycles]
    outcome = lost_cycles_outcome(
        lost_keys,
        {(t, since(at)) for t, at in logs.run_again},
        {(t, since(at)) for t, at in logs.cut_short},
        per_trader((t, since(at)) for t, at in logs.all_starts),
    )
    gaps = schedule_gaps(
        {t: [since(at) for at in times] for t, times in starts.items()},
        args.interval,
        windows,
        grace=args.gap_grace,
    )
    return {
        "run": run,
        "requests": {
            "served": sum(1 for c in record.calls if c.ok),
            "total": len(record.calls),
            "by_kind": dict(Counter(c.kind for c in record.calls)),
        },
        "errors_outside_fault_windows": {
            "count": sum(errors_outside.values()),
            "by_kind": dict(errors_outside),
        },
        "errors_inside_fault_windows": {
            "count": sum(errors_inside.values()),
            "by_kind": dict(errors_inside),
        },
        # Every error, in time order; ``from_window_s`` 0 is inside a fault's window.
        "errors": errors,
        "faults": faults,
        "cycles": {
            **facts["records"],
            "started_by_workers": len(logs.started),
            "started_without_record": len(lost_cycles),
            "lost_in_flight_by_fault": dict(lost_by_fault(lost_cycles, record.faults, args.settle)),
            "without_record_outcome": dict(outcome),
            "without_record_by_logged_end": dict(
                Counter(logs.outcomes.get(key, "no end logged") for key in lost_cycles)
            ),
            "run_again_on_takeover_logged": len(logs.run_again),
            "cut_short_by_outage_logged": len(logs.cut_short),
            "late_gaps": len(gaps),
            "slots_skipped": sum(g["slots_skipped"] for g in gaps),
            "gaps_by_cause": gaps_by_cause(gaps),
            "gaps": gaps,
        },
        "orders": {
            "sent": len(record.orders),
            "acknowledged": len(acknowledged),
            "filled_per_client": sum(1 for s in record.orders.values() if s == "filled"),
            "in_ledger": len(ledger),
            "lost": lost,
            "doubled": doubled,
            "client_saw_filled_ledger_not": unfilled,
            "never_acknowledged": sum(1 for s in record.orders.values() if s == "unconfirmed"),
            "client_view": dict(Counter(record.orders.values())),
        },
        "websocket": dict(record.ws),
        "backtests": dict(record.backtests),
        "memory": memory,
    }


def markdown(report: dict[str, Any]) -> str:
    run = report["run"]
    outside = [e for e in report["errors"] if e["from_window_s"] != 0]
    lines = [
        f"Soak run: {run['load_s']} s of load (asked: {run['duration_s']} s), "
        f"{run['traders']} traders every {run['interval_s']} s, lease {run['lease_s']} s; "
        "load average at start "
        f"{run['load_average_start']}, at end {run['load_average_end']}.",
        f"`uptime` at the end: {run['uptime_end']}",
        "",
        f"Requests: {report['requests']['served']} served of {report['requests']['total']} "
        f"({report['requests']['by_kind']}).",
        f"Errors outside the fault windows: {report['errors_outside_fault_windows']['count']} "
        f"{report['errors_outside_fault_windows']['by_kind'] or ''}",
        *(error_line(e) for e in outside),
        f"Errors inside the fault windows: {report['errors_inside_fault_windows']['count']} "
        f"{report['errors_inside_fault_windows']['by_kind'] or ''}",
        "",
        "| fault | at (s) | recovered in (s) | window (s) | errors in window "
        "| p99 before / during / after (ms) | load avg |",
        "|---|---|---|---|---|---|---|",
    ]
    for fault in report["faults"]:
        lines.append(
            f"| {fault['note']} | {fault['at_s']} | {fault['recovery_s']} | "
            f"{fault['window_s']} | "
            f"{fault['errors_in_window']} | {fault['p99_ms_before']} / {fault['p99_ms_during']} / "
            f"{fault['p99_ms_after']} | {fault['load_average']} |"
        )
    cycles, orders = report["cycles"], report["orders"]
    lines += [
        "",
        f"Cycles: {cycles['cycles']} recorded {cycles['by_status']}; started by workers "
        f"{cycles['started_by_workers']}, started without a record (lost in flight) "
        f"{cycles['started_without_record']} {cycles['lost_in_flight_by_fault']}, of which "
        f"{cycles['without_record_outcome']}, ended as {cycles['without_record_by_logged_end']}; "
        "traders that never decided "
        f"{cycles['traders_with_none']}.",
        f"Schedule: {cycles['late_gaps']} gaps longer than 1.5 intervals, "
        f"{cycles['slots_skipped']} slots skipped (whole intervals without a cycle); by cause:",
        *(
            f"- {cause}: {entry['gaps']} gaps, {entry['slots_skipped']} skipped, late up to "
            f"{entry['max_late_s']} s, due {entry['due_from_s']}-{entry['due_to_s']} s"
            for cause, entry in sorted(cycles["gaps_by_cause"].items())
        ),
        f"Orders: {orders['sent']} sent, {orders['acknowledged']} acknowledged, "
        f"{orders['filled_per_client']} filled (client view), {orders['in_ledger']} in the ledger; "
        f"lost {len(orders['lost'])}, doubled {len(orders['doubled'])}, client saw filled but "
        f"ledger did not {len(orders['client_saw_filled_ledger_not'])}, never acknowledged "
        f"{orders['never_acknowledged']}.",
        f"WebSocket: {report['websocket']}. Backtests: {report['backtests']}.",
        "",
        "| process | RSS first (MB) | RSS last (MB) | growth | over (s) "
        "| second half: MB/min, growth (over s) | RSS (MB) at life (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, memory in sorted(report["memory"].items()):
        marks = ", ".join(f"{mb}@{at}" for at, mb in memory["rss_mb_at_life_s"])
        lines.append(
            f"| {label} | {memory['first_mb']} | {memory['last_mb']} | "
            f"{memory['growth_pct']} % | {memory['over_s']} | "
            f"{memory['second_half_mb_per_min']}, {memory['second_half_growth_pct']} % "
            f"({memory['second_half_s']}) | {marks} |"
        )
    return "\n".join(lines)


# -- the run ------------------------------------------------------------------------------


def _fault_plan(spec: str, duration: float) -> list[tuple[str, float]]:
    plan = []
    for item in filter(None, spec.split(",")):
        kind, _, when = item.strip().partition("@")
        if kind not in FAULT_KINDS:
            raise SystemExit(f"unknown fault {kind!r}: one of {', '.join(FAULT_KINDS)}")
        value = float(when)
        plan.append((kind, value * duration if value <= 1 else value))
    return sorted(plan, key=lambda p: p[1])


async def soak(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    plan = _fault_plan(args.faults, args.duration)
    async with restartable_cluster(workdir) as (admin_url, restart_postgres):
        admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
        await admin.execute('CREATE DATABASE "hyperoru_soak"')
        await admin.close()
        database_url = (
            make_url(admin_url).set(database="hyperoru_soak").render_as_string(hide_password=False)
        )
        shape = Shape(workdir, database_url, restart_postgres, args)
        try:
            shape.start_redis()
            await shape.wait_redis()
            await shape.start_api("a")  # migrates the database
            await shape.start_api("b")
            users, traders, program_id = await set_up(shape, args)
            for name in ("1", "2"):
                await shape.start_worker(name)
            record = Record()
            load = Load(shape, record, users, program_id, args)
            sampler = asyncio.create_task(sample_memory(shape, record, args.memory_every))
            run: dict[str, Any] = {
                "duration_s": args.duration,
                "traders": args.traders,
                "interval_s": args.interval,
                "lease_s": args.lease,
                "load_average_start": [round(x, 2) for x in os.getloadavg()],
                "uptime_start": _uptime(),
                "load_start": time.monotonic(),
            }
            load_wall = datetime.now(UTC)
            load_task = asyncio.create_task(load.run())
            for kind, offset in plan:
                await asyncio.sleep(max(0.0, run["load_start"] + offset - time.monotonic()))
                fault = Fault(kind, offset)
                record.faults.append(fault)
                print(f"[{time.monotonic() - run['load_start']:7.1f} s] fault: {kind}", flush=True)
                await inject(fault, shape, load, traders, args)
                print(
                    f"[{time.monotonic() - run['load_start']:7.1f} s] {fault.note}; recovered "
                    f"in {fault.recovery_seconds}",
                    flush=True,
                )
            await asyncio.sleep(max(0.0, run["load_start"] + args.duration - time.monotonic()))
            await asyncio.gather(*shape.restarts)
            run["load_end"] = time.monotonic()
            load_ended_at = datetime.now(UTC)
            run["load_s"] = round(run["load_end"] - run["load_start"], 1)
            load.stopping.set()
            await asyncio.wait_for(load_task, args.order_retry_seconds + 60)
            sampler.cancel()
            await load.aclose()
            run["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            run["uptime_end"] = _uptime()
            await asyncio.sleep(args.drain)  # cycles under way finish before the workers stop
            shape.processes.stop_all()
            facts = await ledger_facts(database_url, traders, load_ended_at)
            logs = worker_logs(shape, load_ended_at)
            report = summarise(record, facts, logs, run, load_wall, args)
        finally:
            shape.processes.stop_all()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds of load")
    parser.add_argument("--traders", type=int, default=200)
    parser.add_argument(
        "--interval", type=int, default=60, help="each trader's schedule (s, >= 30)"
    )
    parser.add_argument("--lease", type=float, default=30, help="HYPERORU_RUNTIME_LEASE_SECONDS")
    parser.add_argument(
        "--faults",
        default="worker@0.2,api@0.4,redis@0.6,postgres@0.8",
        help="kind@when, when a fraction of --duration (<= 1) or seconds",
    )
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--read-pause", type=float, default=0.2)
    parser.add_argument("--login-every", type=float, default=3.0)
    parser.add_argument("--order-every", type=float, default=1.0)
    parser.add_argument("--order-retry-seconds", type=float, default=120.0)
    parser.add_argument("--ws-clients", type=int, default=20)
    parser.add_argument("--backtest-every", type=float, default=30.0)
    parser.add_argument("--request-timeout", type=float, default=15.0)
    parser.add_argument("--redis-down", type=float, default=3.0, help="seconds Redis stays down")
    parser.add_argument("--recovery-limit", type=float, default=180.0)
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds after a recovery still counted in its fault window",
    )
    parser.add_argument(
        "--window",
        type=float,
        default=30.0,
        help="seconds before and after a fault its p99s are taken over",
    )
    parser.add_argument("--memory-every", type=float, default=10.0)
    parser.add_argument(
        "--memory-warmup",
        type=float,
        default=60.0,
        help="a process's memory is compared from this long after its start",
    )
    parser.add_argument(
        "--memory-mark",
        type=float,
        default=300.0,
        help="the report gives each process life's RSS every this many seconds of it",
    )
    parser.add_argument(
        "--gap-grace",
        type=float,
        default=60.0,
        help="a schedule gap due this long after a fault's window is put down to it",
    )
    parser.add_argument(
        "--memory-probe",
        type=float,
        default=0.0,
        help="every this many seconds, each hyperoru process writes its objects by type "
        "and tracemalloc's top sites to memory-*.jsonl in the work folder (slows them; "
        "bench/memory_probe_diff.py compares); 0: off",
    )
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds the workers run on after the load"
    )
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--out", type=Path, default=Path("soak-report.json"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args()
    if args.interval < 30:
        parser.error("--interval must be at least 30 (the API's minimum)")
    workdir = Path(tempfile.mkdtemp(prefix="hyperoru-soak-"))
    try:
        report = asyncio.run(soak(args, workdir))
    except SetupFailed as exc:
        print(f"setup failed, nothing measured: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(markdown(report))
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nfull report: {args.out}")


if __name__ == "__main__":
    main()
