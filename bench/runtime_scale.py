"""Many traders on a schedule against a real server: do all their cycles run, on time, and
what does a cycle cost besides the model?

Starts, as real processes on 127.0.0.1:
- a fake OpenAI-compatible model (``bench/scale/fake_model.py``) that answers every chat
  completion with a ``hold`` decision after ``--model-delay`` seconds and logs when each
  request arrived and when it was answered;
- the server under test: ``hyperoru serve`` on SQLite in a temporary data folder (the
  embedded default: API and runtime in one process), or with ``--database postgres`` one
  ``hyperoru serve`` API process (``HYPERORU_RUNTIME=off``) plus ``--workers`` ``hyperoru
  worker`` processes on a throw-away PostgreSQL cluster (or a scratch database on the
  loopback server of ``--postgres-url``).

Then creates ``--traders`` traders through the public API (users of 100 traders each,
every trader an ``openai`` trader whose base URL is the fake and whose model name is
unique, so the fake knows who asks), saves each one's strategy with a ``--interval``
schedule, waits ``--intervals`` intervals and reads the decision records back through
``GET /api/account/{id}/decisions``. See bench/README.md ("Trader runtime at scale") for
what each number means.

    .venv/bin/python bench/runtime_scale.py --smoke
    .venv/bin/python bench/runtime_scale.py --traders 500
    .venv/bin/python bench/runtime_scale.py --database postgres --traders 2000

Every process and the temporary folder are removed when the run ends (also on Ctrl-C or
an error); a run whose setup failed reports nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from scale import measure
from scale.cpu import cpu_seconds
from scale.measure import ConnectionSample, Cycle, ModelCall, Trader
from scale.postgres import require_loopback, sample_connections, scratch_database, throwaway_cluster
from scale.processes import Processes, SetupFailed, Spawned, wait_http_ok, wait_log_text
from scale.sqlite_files import sample_open_connections
from scale.traders import (
    BenchTrader,
    ReadFailed,
    create_traders,
    read_cycles,
    trader_states,
)

BENCH_DIR = Path(__file__).resolve().parent
FAKE_MODEL = BENCH_DIR / "scale" / "fake_model.py"
SECRET_KEY = "runtime-scale-bench-secret-key-0123456789abcdef"
UNTHROTTLED = str(10**9)
# Records are read this long after the last expected model answer, so that cycles that got
# their answer have committed their record.
RECORD_GRACE_SECONDS = 3.0
# The targets.
TARGET_LATENESS_P99_SECONDS = 5.0
TARGET_OVERHEAD_P99_SECONDS = 0.020


class RunFailed(Exception):
    """The run broke after setup in a way that leaves nothing trustworthy to report."""


@dataclass(frozen=True)
class Options:
    traders: int
    database: str
    postgres_url: str | None
    workers: int
    interval: int
    intervals: int
    model_delay: float
    symbols: list[str]
    setup_concurrency: int
    max_seconds: float
    server_env: dict[str, str]
    keep_logs: Path | None
    json_path: Path | None

    @property
    def postgres(self) -> bool:
        return self.database == "postgres"


@dataclass
class Results:
    options: Options
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    setup_seconds: float
    schedule_spread_seconds: float
    traders: list[Trader]
    cycles: list[Cycle]
    calls: list[ModelCall]
    connections: list[ConnectionSample]
    logs: measure.LogSummary
    states: Counter[str]
    exited: dict[str, int | None]
    # Answers of the API that failed while the bench read the results back (then retried).
    read_errors: Counter[str]
    # CPU seconds each server process used from the first schedule to the last read.
    cpu_seconds: dict[str, float | None]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(options: Options, data_dir: Path, model_port: int, database_url: str | None):
    # The caller's own HYPERORU_* settings stay out: the run is defined by its flags.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    env.update(
        HYPERORU_DATA_DIR=str(data_dir),
        HYPERORU_SECRET_KEY=SECRET_KEY,
        HYPERORU_LOG_LEVEL="INFO",
        # The outbound guard refuses loopback unless the operator allows it.
        HYPERORU_LLM_ALLOWED_HOSTS=f"127.0.0.1:{model_port}",
        # The bench creates thousands of traders from one address in a minute.
        HYPERORU_RATE_LIMIT_USER_PER_MINUTE=UNTHROTTLED,
        HYPERORU_RATE_LIMIT_IP_PER_MINUTE=UNTHROTTLED,
        HYPERORU_RATE_LIMIT_AUTH_PER_MINUTE=UNTHROTTLED,
    )
    if database_url:
        env["HYPERORU_DATABASE_URL"] = database_url
    env.update(options.server_env)
    return env


async def _model_calls(client: httpx.AsyncClient, model_url: str) -> list[ModelCall]:
    served = (await client.get(f"{model_url}/bench/requests")).json()
    return [ModelCall(model, arrived, answered) for model, arrived, answered in served]


def _all_recorded(traders: Sequence[Trader], cycles: list[Cycle], options: Options) -> bool:
    grouped = measure.by_account(cycles)
    return all(
        len(
            measure.in_window(t, grouped.get(t.account_id, []), options.interval, options.intervals)
        )
        >= options.intervals
        for t in traders
    )


def _check_alive(api: Spawned, model: Spawned) -> None:
    """Without these two nothing can be measured; a worker that dies is a result instead
    (reported under the processes that exited)."""
    for spawned in (api, model):
        if not spawned.alive():
            raise RunFailed(f"{spawned.label} exited during the run:\n{spawned.tail()}")


async def _wait_for_cycles(
    client: httpx.AsyncClient,
    model_url: str,
    bench: list[BenchTrader],
    options: Options,
    api: Spawned,
    model: Spawned,
    read_errors: Counter[str],
    cpu_at_read: Callable[[], None],
) -> list[Cycle]:
    """Wait until every trader's cycles of the window are recorded (then read once), or
    until the window is over (then read what there is)."""
    traders = [b.trader for b in bench]
    window_end = max(t.schedule_start for t in traders) + options.interval * options.intervals
    read_early = True
    while time.time() < window_end + options.model_delay + RECORD_GRACE_SECONDS:
        _check_alive(api, model)
        if read_early:
            by_model = measure.by_model(await _model_calls(client, model_url))
            answered = [
                [c for c in by_model.get(t.model, []) if c.arrived < window_end] for t in traders
            ]
            if all(len(mine) >= options.intervals for mine in answered):
                last = max(c.answered for mine in answered for c in mine)
                await asyncio.sleep(max(0.0, last + RECORD_GRACE_SECONDS - time.time()))
                cpu_at_read()
                cycles = await read_cycles(client, bench, options.setup_concurrency, read_errors)
                if _all_recorded(traders, cycles, options):
                    return cycles
                read_early = False  # some cycle is missing: wait for the whole window
        await asyncio.sleep(1.0)
    _check_alive(api, model)
    cpu_at_read()
    return await read_cycles(client, bench, options.setup_concurrency, read_errors)


async def _start_servers(
    options: Options, processes: Processes, env: dict[str, str], workdir: Path
) -> tuple[Spawned, str]:
    port = _free_port()
    api_env = env | ({"HYPERORU_RUNTIME": "off"} if options.postgres else {})
    api = processes.start(
        "api",
        [sys.executable, "-m", "hyperoru", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=api_env,
        cwd=workdir,
    )
    base_url = f"http://127.0.0.1:{port}"
    await wait_http_ok(f"{base_url}/api/health", api, within_seconds=120)
    for index in range(options.workers if options.postgres else 0):
        worker = processes.start(
            f"worker-{index + 1}",
            [sys.executable, "-m", "hyperoru", "worker"],
            env=env,
            cwd=workdir,
        )
        await wait_log_text(worker, "worker_started", within_seconds=120)
    return api, base_url


async def _measure(options: Options, workdir: Path, processes: Processes) -> Results:
    async with contextlib.AsyncExitStack() as stack:
        database_url = None
        if options.postgres:
            server_url = options.postgres_url or await stack.enter_async_context(
                throwaway_cluster(workdir)
            )
            database_url = await stack.enter_async_context(scratch_database(server_url))
        # Registered after the database, so the processes stop before it goes.
        stack.callback(processes.stop_all)

        model_port, delay = _free_port(), str(options.model_delay)
        model = processes.start(
            "fake-model",
            [sys.executable, str(FAKE_MODEL), "--port", str(model_port), "--delay", delay],
            env=dict(os.environ),
            cwd=workdir,
        )
        model_url = f"http://127.0.0.1:{model_port}"
        await wait_http_ok(f"{model_url}/bench/requests", model, within_seconds=30)
        data_dir = workdir / "data"
        env = _server_env(options, data_dir, model_port, database_url)
        api, base_url = await _start_servers(options, processes, env, workdir)

        load_before = os.getloadavg()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
            setup_started = time.monotonic()
            bench = await create_traders(
                client,
                count=options.traders,
                model_base_url=f"{model_url}/v1",
                interval=options.interval,
                symbols=options.symbols,
                prefix=f"rs{int(time.time()) % 100000}",
                concurrency=options.setup_concurrency,
            )
            setup_seconds = time.monotonic() - setup_started
            connections: list[ConnectionSample] = []
            read_errors: Counter[str] = Counter()
            servers = [p for p in processes.started if p.label != "fake-model"]
            cpu_start = {p.label: cpu_seconds(p.pid) for p in servers}
            cpu_used: dict[str, float | None] = {}

            def cpu_at_read() -> None:
                for p in servers:
                    now, before = cpu_seconds(p.pid), cpu_start[p.label]
                    cpu_used[p.label] = None if now is None or before is None else now - before

            if options.postgres:
                assert database_url is not None
                sampler = sample_connections(database_url, connections)
            else:
                sampler = sample_open_connections(api.pid, data_dir / "hyperoru.db", connections)
            sampling = asyncio.create_task(sampler)
            try:
                cycles = await _wait_for_cycles(
                    client, model_url, bench, options, api, model, read_errors, cpu_at_read
                )
            finally:
                sampling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampling
            if sampling.done() and not sampling.cancelled() and sampling.exception():
                raise RunFailed(f"connection sampling failed: {sampling.exception()!r}")
            calls = await _model_calls(client, model_url)
            states = await trader_states(client, bench, read_errors)
        load_after = os.getloadavg()
        exited = {s.label: s.popen.poll() for s in processes.started if not s.alive()}
        processes.stop_all()  # flushes the logs before they are read
        traders = [b.trader for b in bench]
        starts = [t.schedule_start for t in traders]
        return Results(
            options=options,
            load_before=load_before,
            load_after=load_after,
            setup_seconds=setup_seconds,
            schedule_spread_seconds=max(starts) - min(starts),
            traders=traders,
            cycles=cycles,
            calls=calls,
            connections=connections,
            logs=measure.scan_logs({s.label: s.log_lines() for s in processes.started}),
            states=states,
            exited=exited,
            read_errors=read_errors,
            cpu_seconds=cpu_used,
        )


async def _run(options: Options) -> Results:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    workdir = Path(tempfile.mkdtemp(prefix="hyperoru-runtime-scale-"))
    (workdir / "logs").mkdir()
    processes = Processes(workdir / "logs")
    try:
        async with asyncio.timeout(options.max_seconds):
            return await _measure(options, workdir, processes)
    except TimeoutError:
        raise RunFailed(f"the run exceeded --max-seconds {options.max_seconds:g}") from None
    finally:
        processes.stop_all()
        if options.keep_logs is not None:
            shutil.copytree(workdir / "logs", options.keep_logs, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


# --- the report -----------------------------------------------------------------------


def _stats(values: Sequence[float], scale: float) -> dict[str, Any]:
    def fmt(value: float | None) -> float | None:
        return None if value is None else round(value * scale, 3)

    return {
        "p50": fmt(measure.percentile(values, 50)),
        "p99": fmt(measure.percentile(values, 99)),
        "max": fmt(max(values) if values else None),
        "n": len(values),
    }


# (label, Observed field, scale to the unit in the label)
MEASURES = (
    ("lateness: trigger `at` - ideal start (s)", "lateness", 1),
    ("lateness: model request arrival - ideal start (s)", "request_lateness", 1),
    ("overhead: record - trigger - model delay (ms)", "overhead", 1000),
    ("overhead before the model request arrived (ms)", "before_model", 1000),
    ("overhead after the model answered (ms)", "after_model", 1000),
    ("overhead, server's view: record - trigger - latency_ms (ms)", "server_overhead", 1000),
)


def _values(observed: Sequence[measure.Observed], name: str) -> list[float]:
    return [v for o in observed if (v := getattr(o, name)) is not None]


def _cycle_lateness(observed: Sequence[measure.Observed]) -> list[float]:
    """When each cycle really got going: its model request's arrival where the fake saw
    it, else its trigger time (a cycle that failed before asking)."""
    return [o.lateness if o.request_lateness is None else o.request_lateness for o in observed]


def summarise(results: Results) -> dict[str, Any]:
    o = results.options
    cycles = measure.by_account(results.cycles)
    observed = measure.observe(
        results.traders,
        cycles,
        measure.by_model(results.calls),
        interval=o.interval,
        intervals=o.intervals,
        model_delay=o.model_delay,
    )
    rows = measure.interval_rows(results.traders, cycles, o.interval, o.intervals)
    per_interval = []
    for row in rows:
        mine = [x for x in observed if x.interval == row.index - 1]
        per_interval.append(
            asdict(row)
            | {
                "lateness_p99_s": _stats(_cycle_lateness(mine), 1)["p99"],
                "overhead_ms": _stats(_values(mine, "overhead"), 1000),
            }
        )
    totals = [s.total for s in results.connections]
    in_use = [s.in_use for s in results.connections if s.in_use is not None]
    lateness_p99 = measure.percentile(_cycle_lateness(observed), 99)
    overhead_p99 = measure.percentile(_values(observed, "overhead"), 99)
    all_complete = all(r.completed == r.expected for r in rows)
    on_time = lateness_p99 is not None and lateness_p99 < TARGET_LATENESS_P99_SECONDS
    cheap = overhead_p99 is not None and overhead_p99 < TARGET_OVERHEAD_P99_SECONDS
    return {
        "setup": {
            "database": "PostgreSQL" if o.postgres else "SQLite",
            "shape": (
                f"1 hyperoru serve (HYPERORU_RUNTIME=off) + {o.workers} hyperoru worker"
                if o.postgres
                else "1 hyperoru serve (embedded runtime)"
            ),
            "traders": o.traders,
            "interval_s": o.interval,
            "intervals": o.intervals,
            "model_delay_s": o.model_delay,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in results.load_before],
            "load_after": [round(x, 2) for x in results.load_after],
            "setup_s": round(results.setup_seconds, 1),
            "schedule_spread_s": round(results.schedule_spread_seconds, 1),
            "server_env": o.server_env,
        },
        "intervals": per_interval,
        "cycles_expected": o.traders * o.intervals,
        "measures": [
            {"measure": label} | _stats(_values(observed, name), scale)
            for label, name, scale in MEASURES
        ],
        "connections": {
            "measure": (
                "pg_stat_activity of the run database, sampled every second (in use = not idle)"
                if o.postgres
                else "descriptors of the SQLite file held by the server process, every second "
                "(open connections, idle ones included; in use is not visible)"
            ),
            "samples": len(totals),
            "open_max": max(totals, default=None),
            "open_p50": measure.percentile(totals, 50),
            "in_use_max": max(in_use, default=None),
            "in_use_p50": measure.percentile(in_use, 50),
        },
        "failures": dict(
            measure.failure_causes(results.traders, cycles, o.interval, o.intervals).most_common()
        ),
        "trader_states": dict(results.states.most_common()),
        "server_cpu_s": {
            k: None if v is None else round(v, 1) for k, v in results.cpu_seconds.items()
        },
        # Only when every cycle left a record: otherwise the CPU of the cycles that crashed
        # would be charged to the few that did not.
        "server_cpu_ms_per_cycle": (
            round(1000 * sum(v for v in results.cpu_seconds.values() if v) / len(observed), 1)
            if observed and len(observed) == o.traders * o.intervals
            else None
        ),
        "model_requests_in_flight_max": measure.peak_in_flight(results.calls),
        "pool_errors_in_logs": results.logs.pool_errors,
        "api_errors_while_reading_results": dict(results.read_errors.most_common()),
        "log_problems": [
            {"process": p, "level": lv, "msg": m, "exception": e, "count": n}
            for (p, lv, m, e), n in results.logs.problems.most_common(20)
        ],
        "processes_exited_early": results.exited,
        "targets": {
            "every cycle completed in its interval": all_complete,
            "zero pool errors": results.logs.pool_errors == 0,
            f"lateness p99 < {TARGET_LATENESS_P99_SECONDS:g} s (model request arrival)": on_time,
            f"overhead p99 < {TARGET_OVERHEAD_P99_SECONDS * 1000:g} ms": cheap,
        },
    }


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value}"


def print_report(summary: dict[str, Any]) -> None:
    s = summary["setup"]
    print(
        f"\n{s['database']}, {s['shape']}: {s['traders']} traders every {s['interval_s']} s "
        f"for {s['intervals']} interval(s), model delay {s['model_delay_s']} s\n"
        f"{s['cpus']} CPUs, load {s['load_before']} before, {s['load_after']} after; "
        f"Python {s['python']}; traders created in {s['setup_s']} s, schedules started "
        f"within {s['schedule_spread_s']} s of each other"
        + (f"; server env {s['server_env']}" if s["server_env"] else "")
    )
    print(
        "\n| interval | expected | completed | late | failed | missing "
        "| lateness p99 s | overhead p50 ms | overhead p99 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in summary["intervals"]:
        print(
            f"| {r['index']} | {r['expected']} | {r['completed']} | {r['late']} "
            f"| {r['failed']} | {r['missing']} | {_cell(r['lateness_p99_s'])} "
            f"| {_cell(r['overhead_ms']['p50'])} | {_cell(r['overhead_ms']['p99'])} |"
        )
    print(
        f"\n| measure (over the cycles that ran, of {summary['cycles_expected']}) | p50 | p99 "
        "| max | n |"
    )
    print("|---|---:|---:|---:|---:|")
    for m in summary["measures"]:
        print(
            f"| {m['measure']} | {_cell(m['p50'])} | {_cell(m['p99'])} | {_cell(m['max'])} "
            f"| {m['n']} |"
        )
    c = summary["connections"]
    print(
        f"\nDatabase connections ({c['measure']}): open max {_cell(c['open_max'])}, "
        f"p50 {_cell(c['open_p50'])}; in use max {_cell(c['in_use_max'])}, "
        f"p50 {_cell(c['in_use_p50'])}; {c['samples']} samples"
    )
    print(
        f"Server CPU seconds during the window: {summary['server_cpu_s']}; "
        f"{_cell(summary['server_cpu_ms_per_cycle'])} ms per cycle "
        "(shown when every cycle left a record)"
    )
    print(
        f"Model requests in flight at the fake: at most {summary['model_requests_in_flight_max']}"
    )
    print(f"Pool errors in the server logs: {summary['pool_errors_in_logs']}")
    if summary["api_errors_while_reading_results"]:
        print(
            "API errors while reading the results (retried): "
            f"{summary['api_errors_while_reading_results']}"
        )
    if summary["processes_exited_early"]:
        print(f"Processes that exited during the run: {summary['processes_exited_early']}")
    print("\nFailures by cause:" if summary["failures"] else "\nFailures by cause: none")
    for cause, count in summary["failures"].items():
        print(f"- {count} × {cause}")
    print("Trader states at the end:")
    for state, count in summary["trader_states"].items():
        print(f"- {count} × {state}")
    if summary["log_problems"]:
        print("\nServer log lines at WARNING and above (most frequent first):")
        print("| process | level | message | exception | count |")
        print("|---|---|---|---|---:|")
        for p in summary["log_problems"]:
            print(
                f"| {p['process']} | {p['level']} | {p['msg']} | {p['exception']} | {p['count']} |"
            )
    print("\nTargets (the issue's):")
    for target, met in summary["targets"].items():
        print(f"- {'met' if met else 'MISSED'}: {target}")


# --- command line ---------------------------------------------------------------------


def _parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traders", type=int, default=500)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        help="a loopback PostgreSQL server (SQLAlchemy URL) to create a scratch database on "
        "(needs CREATEDB); default: a throw-away cluster",
    )
    parser.add_argument("--workers", type=int, default=2, help="hyperoru worker processes")
    parser.add_argument("--interval", type=int, default=60, help="schedule, seconds (30-86400)")
    parser.add_argument("--intervals", type=int, default=3, help="intervals to measure")
    parser.add_argument("--model-delay", type=float, default=2.0, help="fake model, seconds")
    parser.add_argument("--symbols", default="BTC", help="comma-separated")
    parser.add_argument("--setup-concurrency", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, help="bound on the whole run")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra HYPERORU_* setting for the server processes (repeatable)",
    )
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="5 traders, one 30 s interval, done as soon as their cycles are recorded",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.traders, args.interval, args.intervals = 5, 30, 1
    if args.postgres_url:
        args.database = "postgres"
        try:
            require_loopback(args.postgres_url)
        except SetupFailed as exc:
            parser.error(str(exc))
    if not 30 <= args.interval <= 86400:
        parser.error("--interval must be 30-86400 s (the API refuses other schedules)")
    if args.traders < 1 or args.intervals < 1 or args.model_delay < 0:
        parser.error("--traders and --intervals must be positive, --model-delay not negative")
    env = dict(item.split("=", 1) for item in args.env if "=" in item)
    if len(env) != len(args.env) or not all(k.startswith("HYPERORU_") for k in env):
        parser.error("--env takes HYPERORU_KEY=VALUE")
    # Start-up, a generous setup rate, the window, and reading everything back.
    default_bound = 180 + 0.3 * args.traders + args.interval * args.intervals + 60
    return Options(
        traders=args.traders,
        database=args.database,
        postgres_url=args.postgres_url,
        workers=args.workers,
        interval=args.interval,
        intervals=args.intervals,
        model_delay=args.model_delay,
        symbols=[s.strip() for s in args.symbols.split(",") if s.strip()],
        setup_concurrency=args.setup_concurrency,
        max_seconds=args.max_seconds or default_bound,
        server_env=env,
        keep_logs=args.keep_logs,
        json_path=args.json,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    try:
        results = asyncio.run(_run(options))
    except SetupFailed as exc:
        print(f"setup failed, nothing to report: {exc}", file=sys.stderr)
        return 2
    except (RunFailed, ReadFailed) as exc:
        print(f"run failed, nothing to report: {exc}", file=sys.stderr)
        return 3
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; processes stopped and temporary files removed", file=sys.stderr)
        return 130
    summary = summarise(results)
    print_report(summary)
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
