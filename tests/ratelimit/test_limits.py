"""Per-user and per-IP budgets, their headers, and one shared budget across processes via Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import redis.asyncio as aioredis

from hyperoru.app import create_app
from hyperoru.ratelimit.limiter import Budget, LimitStatus, RateLimiter
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running, two_processes
from tests.e2e.server import free_port
from tests.health.test_redis_recovery import RedisServer
from tests.helpers import Api, assert_error, away_from_minute_edge


async def test_user_budget_headers_and_429(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(rate_limit_user_per_minute=5))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user("budgeted")
        await away_from_minute_edge()
        remaining = []
        for _ in range(5):
            response = await client.get("/api/users/profile", headers=api.bearer(token))
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "5"
            assert 1 <= int(response.headers["x-ratelimit-reset"]) <= 60
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        limited = await client.get("/api/users/profile", headers=api.bearer(token))
        assert_error(limited, 429, "RATE_LIMITED")
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Another user has their own budget.
        _, other = await api.user("unbudgeted")
        assert (
            await client.get("/api/users/profile", headers=api.bearer(other))
        ).status_code == 200


async def test_anonymous_budget_is_per_ip_and_health_is_exempt(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(rate_limit_ip_per_minute=3))
    async with running(app), asgi_client(app, client_ip="198.51.100.9") as client:
        await away_from_minute_edge()
        statuses = [(await client.get("/api/users/profile")).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert_error(await client.get("/api/users/profile"), 429, "RATE_LIMITED")
        for _ in range(10):
            assert (await client.get("/api/health")).status_code == 200
        async with asgi_client(app, client_ip="198.51.100.10") as neighbour:
            assert_error(await neighbour.get("/api/users/profile"), 401, "AUTH_REQUIRED")


async def test_two_app_instances_share_one_redis_budget(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    connection = aioredis.from_url(redis_url)
    await connection.flushdb()
    await connection.aclose()
    settings = make_settings(redis_url=redis_url, rate_limit_user_per_minute=6)
    username = f"shared-{uuid.uuid4().hex[:8]}"
    async with two_processes(settings) as (_, _, one, two):
        _, token = await Api(one).user(username)
        headers = Api.bearer(token)
        await away_from_minute_edge()
        statuses = []
        for index in range(8):
            client = one if index % 2 == 0 else two
            statuses.append((await client.get("/api/users/profile", headers=headers)).status_code)
        assert statuses == [200] * 6 + [429, 429]


def test_raw_headers_are_the_headers_as_asgi_carries_them() -> None:
    status = LimitStatus(allowed=True, limit=1200, remaining=0, reset_seconds=37)
    assert status.raw_headers() == [
        (name.lower().encode(), value.encode()) for name, value in status.headers().items()
    ]


def test_budgets_of_one_bucket_with_other_amounts_have_their_own_items() -> None:
    small, large = Budget("user", 5, 60), Budget("user", 6, 60)
    assert small.item() is Budget("user", 5, 60).item()  # built once
    assert (small.item().amount, large.item().amount) == (5, 6)
    assert Budget("ip", 5, 60).item().namespace == "ip"


async def test_budgets_are_counted_across_a_redis_restart(tmp_path: Path) -> None:
    """Every request hits a budget: after Redis restarts, the connections the limiter's
    pool held are closed, and the next hit on each goes through on a new one (before,
    each answered one request 503 long after Redis was back: the soak, bench/README.md)."""
    server = RedisServer(free_port(), tmp_path)
    server.start()
    limiter = RateLimiter(f"redis://127.0.0.1:{server.port}/0")
    budget = Budget("user", 1000, 60)
    try:
        hits = [limiter.hit(budget, f"user-{i}") for i in range(8)]
        assert all(status.allowed for status in await asyncio.gather(*hits))
        server.stop()
        await asyncio.to_thread(server.start)
        hits = [limiter.hit(budget, f"user-{i}") for i in range(8)]
        assert [s.remaining for s in await asyncio.gather(*hits)] == [999] * 8  # Redis empty
    finally:
        server.stop()
