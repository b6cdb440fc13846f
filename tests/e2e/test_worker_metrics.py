"""`hyperoru worker` processes on PostgreSQL and Redis are scraped on their own port:
the cycles they run are counted there, with the deployment's outbox and job gauges, under
/metrics' operator rule; without the option a worker listens on no port at all."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from hyperoru.strategies.records import DecisionRecord
from tests.e2e.server import free_port, scaled_env, serve, worker
from tests.helpers import STRONG_PASSWORD, assert_error
from tests.metrics.scrape import Samples

TOKEN = "worker-metrics-token-0123456789"
DEADLINE_SECONDS = 60.0  # a generous bound for each wait: the test never sleeps a fixed time
# The scheduler's first cycle is due at once, the next one a day later: exactly one runs.
A_DAY = 86_400


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on: its socket descriptors matched against the
    kernel's tables (``/proc/<pid>/net/tcp*`` list the whole network namespace)."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = descriptor.readlink()
        except FileNotFoundError:
            continue  # closed meanwhile
        if str(target).startswith("socket:["):
            inodes.add(str(target)[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def _samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _total(samples: Samples, name: str) -> float:
    return sum(value for (sample, _), value in samples.items() if sample == name)


async def _trader_deciding_once(api_url: str) -> int:
    """A builtin-model trader whose schedule runs one cycle (now) and the next in a day."""
    body = {"username": "metered", "password": STRONG_PASSWORD}
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        assert (await http.post("/api/users/register", json=body)).status_code == 201
        token = (await http.post("/api/users/login", json=body)).json()["session_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        created = await http.post("/api/account/", json={"name": "m", "llm_provider": "builtin"})
        assert created.status_code == 201, created.text
        trader_id: int = created.json()["id"]
        strategy = {"symbols": ["BTC"], "trigger_interval": A_DAY}
        changed = await http.put(f"/api/account/{trader_id}/strategy", json=strategy)
        assert changed.status_code == 200, changed.text
    return trader_id


async def test_a_worker_serves_the_cycle_it_ran_on_its_metrics_port(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    shared = scaled_env(postgres_url, redis_url, METRICS_TOKEN=TOKEN)
    with serve(tmp_path / "api", {**shared, "HYPERORU_RUNTIME": "off"}) as api:
        trader_id = await _trader_deciding_once(api.base_url)

    port = free_port()
    runtime = {**shared, "HYPERORU_RUNTIME_TICK_SECONDS": "0.2"}
    with worker(tmp_path / "worker", runtime, ("--metrics-port", str(port))) as running:
        url = f"http://127.0.0.1:{port}/metrics"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(timeout=30) as http:
            # A token is set: being on this machine is not enough.
            assert_error(await http.get(url), 403, "METRICS_FORBIDDEN")
            deadline = time.monotonic() + DEADLINE_SECONDS
            while True:
                answer = await http.get(url, headers=auth)
                assert answer.status_code == 200, answer.text
                samples = _samples(answer.text)
                if _total(samples, "hyperoru_cycle_duration_seconds_count"):
                    break
                assert time.monotonic() < deadline, f"no cycle counted:\n{running.logs()}"
                await asyncio.sleep(0.2)
        listening = _listening_ports(running.process.pid)
        ended = [
            json.loads(line)
            for line in running.logs().splitlines()
            if line.startswith("{") and '"event": "cycle_ended"' in line
        ]

    # The one cycle the worker ran (its log line), counted once under its outcome and
    # with its duration; its decision is recorded.
    (cycle,) = ended
    assert cycle["account_id"] == trader_id and cycle["pid"] == running.process.pid
    outcome = (("outcome", cycle["outcome"]),)
    assert samples[("hyperoru_cycle_duration_seconds_count", outcome)] == 1
    assert _total(samples, "hyperoru_cycle_duration_seconds_count") == 1
    seconds = samples[("hyperoru_cycle_duration_seconds_sum", outcome)]
    assert abs(seconds - cycle["seconds"]) <= 0.001
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            decisions = await connection.scalar(
                select(func.count())
                .select_from(DecisionRecord)
                .where(DecisionRecord.account_id == trader_id)
            )
    finally:
        await engine.dispose()
    assert decisions == 1
    # The model's answer behind it, by strategy type.
    assert _total(samples, "hyperoru_model_call_duration_seconds_count") == 1
    # This process, by name; and the deployment's queues, read at scrape time.
    kind_and_pid = (("kind", "worker"), ("pid", str(running.process.pid)))
    assert samples[("hyperoru_process_info", kind_and_pid)] == 1
    assert samples[("hyperoru_outbox_pending", ())] == 0
    assert samples[("hyperoru_jobs", (("status", "queued"),))] == 0
    assert samples[("hyperoru_jobs", (("status", "running"),))] == 0
    assert samples[("hyperoru_db_pool_connections", (("state", "in_use"),))] >= 0
    assert listening == {port}


async def test_a_worker_opens_a_port_only_when_told(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    shared = scaled_env(postgres_url, redis_url)
    port = free_port()
    with (
        worker(tmp_path / "quiet", shared) as quiet,
        worker(tmp_path / "told", {**shared, "HYPERORU_WORKER_METRICS_PORT": str(port)}) as told,
    ):
        assert _listening_ports(quiet.process.pid) == set()
        assert _listening_ports(told.process.pid) == {port}
        # No token: a loopback client reads it, with nothing in between.
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(f"http://127.0.0.1:{port}/metrics")
            assert answer.status_code == 200, answer.text
            proxied = await http.get(
                f"http://127.0.0.1:{port}/metrics", headers={"X-Forwarded-For": "198.51.100.7"}
            )
            assert_error(proxied, 403, "METRICS_FORBIDDEN")
        samples = _samples(answer.text)
        kind_and_pid = (("kind", "worker"), ("pid", str(told.process.pid)))
        assert samples[("hyperoru_process_info", kind_and_pid)] == 1
