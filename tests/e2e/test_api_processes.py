"""`hyperoru serve --workers 2`: two API processes on one port, sharing PostgreSQL and
Redis, answer as one server: a user's rate-limit budget is one budget whichever process
counts it. And without PostgreSQL and Redis the command refuses, saying what is missing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.run import run_cli
from tests.e2e.server import scaled_env, serve
from tests.helpers import STRONG_PASSWORD

BUDGET = 40  # requests a user may make a minute


def _process_samples(client: httpx.Client, route: str) -> tuple[str, float]:
    """(the answering process's pid, the requests it counted on ``route``)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    pid, counted = "", 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "hyperoru_process_info":
                pid = sample.labels["pid"]
            elif (
                sample.name == "hyperoru_http_request_duration_seconds_count"
                and sample.labels["route"] == route
            ):
                counted += sample.value
    return pid, counted


def _scaled_env(postgres_url: str, redis_url: str) -> dict[str, str]:
    return scaled_env(
        postgres_url, redis_url, RUNTIME="off", RATE_LIMIT_USER_PER_MINUTE=str(BUDGET)
    )


def _login(client: httpx.Client, username: str) -> dict[str, str]:
    body = {"username": username, "password": STRONG_PASSWORD}
    assert client.post("/api/users/register", json=body).status_code == 201
    token = client.post("/api/users/login", json=body).json()["session_token"]
    return {"Authorization": f"Bearer {token}"}


def _counts_by_process(
    client: httpx.Client, route: str, deadline_seconds: float
) -> dict[str, float]:
    """Scrape until both processes have answered once: which process takes a new
    connection is the kernel's choice, so keep asking until each has been heard."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + deadline_seconds
    while len(seen) < 2 and time.monotonic() < deadline:
        pid, counted = _process_samples(client, route)
        seen[pid] = counted
    assert len(seen) == 2, f"only {sorted(seen)} answered within {deadline_seconds} s"
    return seen


def test_two_processes_serve_one_port_and_count_one_budget(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    # A new connection for every request, so that both processes can take some.
    fresh = httpx.Limits(max_keepalive_connections=0)
    with (
        serve(
            tmp_path / "data",
            _scaled_env(postgres_url, redis_url),
            args=("--workers", "2"),
            start_seconds=120,
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=30, limits=fresh) as client,
    ):
        # The health check that ended start-up reached one process; the other may still
        # be starting (it waits for the first one's migration lock). Wait for both.
        _counts_by_process(client, "/api/users/profile", deadline_seconds=60)
        auth = _login(client, "counted")

        answers = [client.get("/api/users/profile", headers=auth).status_code for _ in range(80)]

        seen = _counts_by_process(client, "/api/users/profile", deadline_seconds=60)
    assert sum(seen.values()) == 80
    assert answers.count(200) <= BUDGET
    assert answers.count(429) >= 80 - BUDGET
    assert set(answers) == {200, 429}


def test_a_user_has_one_budget_across_api_processes(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Two API processes on the same PostgreSQL and Redis, each on its own port so that
    the test, not the kernel, decides which one counts each request: half the requests
    to each. Per-process budgets would let every one of them through."""
    env = _scaled_env(postgres_url, redis_url)
    with (
        serve(tmp_path / "first", env, start_seconds=120) as first,
        serve(tmp_path / "second", env, start_seconds=120) as second,
        httpx.Client(base_url=first.base_url, timeout=30) as to_first,
        httpx.Client(base_url=second.base_url, timeout=30) as to_second,
    ):
        auth = _login(to_first, "budgeted")
        answers = []
        for _ in range(BUDGET):
            answers.append(to_first.get("/api/users/profile", headers=auth).status_code)
            answers.append(to_second.get("/api/users/profile", headers=auth).status_code)
    # A fresh user's first BUDGET requests all pass, whichever process counted them ...
    assert answers[:BUDGET] == [200] * BUDGET
    # ... and then the shared budget is spent. The sliding window may let one or two more
    # through if a minute boundary passes during the test; per-process budgets would have
    # let all 2 x BUDGET through.
    assert answers.count(200) <= BUDGET + 2
    assert set(answers[BUDGET:]) <= {200, 429}
    assert answers[BUDGET:].count(429) >= BUDGET - 2


def test_several_processes_refuse_sqlite_and_say_why(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "data", "serve", "--workers", "2")
    assert result.returncode == 1
    assert "several API processes need PostgreSQL" in result.stderr
