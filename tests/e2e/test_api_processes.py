"""`hyperoru serve --workers 2`: two API processes on one port, sharing PostgreSQL and
Redis, answer as one server: a user's rate-limit budget is one budget whichever process
counts it. And without PostgreSQL and Redis the command refuses, saying what is missing."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.run import run_cli
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.server import serve
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


def test_two_processes_on_one_port_share_the_rate_limit(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = {
        "HYPERORU_DATABASE_URL": postgres_url,
        "HYPERORU_REDIS_URL": redis_url,
        "HYPERORU_SECRET_KEY": TEST_SECRET_KEY,
        "HYPERORU_RUNTIME": "off",
        "HYPERORU_MARKET_SYMBOLS": "BTC",
        "HYPERORU_RATE_LIMIT_USER_PER_MINUTE": str(BUDGET),
    }
    # A new connection for every request, so that both processes get some.
    fresh = httpx.Limits(max_keepalive_connections=0)
    with (
        serve(tmp_path / "data", env, args=("--workers", "2"), start_seconds=120) as server,
        httpx.Client(base_url=server.base_url, timeout=30, limits=fresh) as client,
    ):
        body = {"username": "counted", "password": STRONG_PASSWORD}
        assert client.post("/api/users/register", json=body).status_code == 201
        token = client.post("/api/users/login", json=body).json()["session_token"]
        auth = {"Authorization": f"Bearer {token}"}

        answers = [client.get("/api/users/profile", headers=auth).status_code for _ in range(80)]

        # Each process counts its own requests: read both, through scrapes that land on
        # one process or the other.
        seen: dict[str, float] = {}
        for _ in range(200):
            pid, counted = _process_samples(client, "/api/users/profile")
            seen[pid] = counted
            if len(seen) == 2:
                break
    assert len(seen) == 2, "the two processes never both answered"
    assert all(counted > 0 for counted in seen.values()), seen
    assert sum(seen.values()) == 80
    # One budget for both processes: per-process budgets would have let up to twice it in.
    assert answers.count(200) <= BUDGET
    assert answers.count(429) >= 80 - BUDGET
    assert set(answers) == {200, 429}


def test_several_processes_refuse_sqlite_and_say_why(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "data", "serve", "--workers", "2")
    assert result.returncode == 1
    assert "several API processes need PostgreSQL" in result.stderr
