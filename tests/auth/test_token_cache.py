"""The per-process token cache: bounded, short-lived, and forgotten on every revocation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, update

from hyperoru.app import create_app
from hyperoru.auth.models import UserSession
from hyperoru.auth.principal import Principal, SessionInfo
from hyperoru.auth.token_cache import TokenCache
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running, two_processes
from tests.helpers import Api, assert_error

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _entry(user_id: int, session_id: int) -> tuple[Principal, SessionInfo]:
    principal = Principal(user_id, f"u{user_id}", None, True, False, "hyperliquid", NOW)
    return principal, SessionInfo(session_id, user_id, NOW, NOW, None)


def test_entries_expire_after_the_ttl() -> None:
    clock = [100.0]
    cache = TokenCache(5, clock=lambda: clock[0])
    cache.put("a", *_entry(1, 1))
    assert cache.get("a") is not None
    clock[0] = 104.9
    assert cache.get("a") is not None
    clock[0] = 105.0
    assert cache.get("a") is None


def test_size_is_bounded_oldest_first() -> None:
    cache = TokenCache(60, max_entries=2)
    for index in range(3):
        cache.put(str(index), *_entry(index, index))
    assert cache.get("0") is None and cache.get("1") is not None and cache.get("2") is not None


def test_forgetting_by_session_user_or_everyone() -> None:
    cache = TokenCache(60)
    cache.put("a", *_entry(1, 10))
    cache.put("b", *_entry(1, 11))
    cache.put("c", *_entry(2, 12))
    cache.forget_session(10)
    assert cache.get("a") is None and cache.get("b") is not None
    cache.forget_user(1)
    assert cache.get("b") is None and cache.get("c") is not None
    cache.forget_user(None)
    assert cache.get("c") is None


def test_a_zero_ttl_caches_nothing() -> None:
    cache = TokenCache(0)
    cache.put("a", *_entry(1, 1))
    assert cache.get("a") is None


async def test_revocation_elsewhere_applies_within_the_ttl(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(token_cache_seconds=0.3))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user("elsewhere")
        assert (
            await client.get("/api/users/profile", headers=api.bearer(token))
        ).status_code == 200
        # Another process (or the CLI) revokes the session in the database.
        async with app.state.services.sessionmaker() as session:
            await session.execute(update(UserSession).values(revoked_at=utcnow()))
            await session.commit()
        await asyncio.sleep(0.35)
        response = await client.get("/api/users/profile", headers=api.bearer(token))
        assert_error(response, 401, "INVALID_TOKEN")


async def test_revocation_reaches_another_process_over_the_bus_at_once(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    # A long cache TTL: only the announcement can make the second process forget.
    settings = make_settings(redis_url=redis_url, token_cache_seconds=60)
    async with two_processes(settings) as (_, _, one, two):
        api = Api(one)
        _, token = await api.user("announced")
        assert (await two.get("/api/users/profile", headers=api.bearer(token))).status_code == 200
        assert (await one.post("/api/users/logout", headers=api.bearer(token))).status_code == 204
        for _ in range(50):  # the Redis round trip, not the 60 s TTL
            response = await two.get("/api/users/profile", headers=api.bearer(token))
            if response.status_code == 401:
                break
            await asyncio.sleep(0.05)
        assert_error(response, 401, "INVALID_TOKEN")


async def test_concurrent_misses_share_one_load() -> None:
    cache = TokenCache(60)
    release = asyncio.Event()
    loads = 0

    async def load() -> tuple[Principal, SessionInfo]:
        nonlocal loads
        loads += 1
        await release.wait()
        return _entry(1, 1)

    waiting = [asyncio.ensure_future(cache.lookup("a", load)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    answers = await asyncio.gather(*waiting)
    assert loads == 1 and all(answer == _entry(1, 1) for answer in answers)
    assert cache.get("a") == _entry(1, 1)


async def test_a_load_overtaken_by_a_revocation_is_not_cached() -> None:
    cache = TokenCache(60)
    release = asyncio.Event()

    async def load() -> tuple[Principal, SessionInfo]:
        await release.wait()
        return _entry(1, 1)  # what the database said before the revocation committed

    pending = asyncio.ensure_future(cache.lookup("a", load))
    await asyncio.sleep(0)
    cache.forget_session(1)  # the revocation lands while the read is in flight
    release.set()
    assert await pending == _entry(1, 1)
    assert cache.get("a") is None  # the next request reads the database again


async def test_a_burst_on_an_expired_entry_reads_and_writes_the_session_once(
    make_settings: Callable[..., Settings],
) -> None:
    """Many requests with one token when its entry ran out (and its last_used_at is over a
    minute old): one session read and one last_used_at write, not one per request."""
    app = create_app(make_settings(token_cache_seconds=60))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user("burst")
        async with app.state.services.sessionmaker() as session:
            await session.execute(
                update(UserSession).values(last_used_at=utcnow() - timedelta(minutes=5))
            )
            await session.commit()
        app.state.services.token_cache.forget_user(None)
        statements: list[str] = []

        def seen(conn, cursor, statement, parameters, context, executemany) -> None:
            if "user_sessions" in statement:
                statements.append(statement.split()[0].upper())

        event.listen(app.state.services.engine.sync_engine, "before_cursor_execute", seen)
        try:
            answers = await asyncio.gather(
                *(client.get("/api/users/profile", headers=api.bearer(token)) for _ in range(20))
            )
        finally:
            event.remove(app.state.services.engine.sync_engine, "before_cursor_execute", seen)
        assert {a.status_code for a in answers} == {200}
        assert statements.count("SELECT") == 1
        assert statements.count("UPDATE") == 1
