"""Shared fixtures: every API test runs on SQLite and, when available, on PostgreSQL.

PostgreSQL and Redis come from ``HYPERORU_TEST_POSTGRES_URL`` / ``HYPERORU_TEST_REDIS_URL``
(scripts/test.sh starts real servers on loopback and sets them). Without them those
variants are skipped, unless ``HYPERORU_REQUIRE_SERVICES=1`` (CI) turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from hyperoru.app import create_app
from hyperoru.data_dir import PRIVATE_FILE_MODE
from hyperoru.db.engine import create_engine
from hyperoru.db.migrate import upgrade_database
from hyperoru.settings import Settings
from tests.helpers import MARKET_SEED, Api
from tests.strategies.fake_llm import FakeLlm, fake_llm

# Under pytest-xdist each worker gets its own database and Redis database number, so
# truncation and flushes in one worker never reach another's tests.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
WORKER_INDEX = int(WORKER.removeprefix("gw")) if WORKER else 0


def _worker_postgres_url(url: str | None) -> str | None:
    if url is None or WORKER is None:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def _worker_redis_url(url: str | None) -> str | None:
    if url is None or WORKER is None:
        return url
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + WORKER_INDEX}"


POSTGRES_URL = _worker_postgres_url(os.environ.get("HYPERORU_TEST_POSTGRES_URL"))
REDIS_URL = _worker_redis_url(os.environ.get("HYPERORU_TEST_REDIS_URL"))
REQUIRE_SERVICES = os.environ.get("HYPERORU_REQUIRE_SERVICES") == "1"
TEST_SECRET_KEY = "test-secret-key-for-the-suite-only-0123456789abcdef"


def _service_missing(name: str) -> None:
    message = f"{name} is not available (set HYPERORU_TEST_{name.upper()}_URL)"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


# Every table emptied and every sequence restarted, as ``TRUNCATE ... RESTART IDENTITY``
# would, but by DELETE: TRUNCATE gives each of the thirty tables a new file, 0.15-0.6 s a
# test on the loaded 2-core machine, where deleting a test's few rows takes milliseconds.
# Triggers (the foreign keys' too) are off for it, so no order is needed; that takes a
# superuser (scripts/test.sh's is one), any other role gets the TRUNCATE.
_EMPTY_TABLES = """
DO $$
DECLARE
  tables text[] := ARRAY(
    SELECT format('%I', tablename) FROM pg_tables
    WHERE schemaname = 'public' AND tablename <> 'alembic_version');
  t text;
BEGIN
  IF cardinality(tables) = 0 THEN
    RETURN;
  END IF;
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    PERFORM set_config('session_replication_role', 'replica', true);
    FOREACH t IN ARRAY tables LOOP
      EXECUTE 'DELETE FROM ' || t;
    END LOOP;
    PERFORM setval(c.oid, 1, false) FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'S' AND n.nspname = 'public';
  ELSE
    EXECUTE 'TRUNCATE ' || array_to_string(tables, ', ') || ' RESTART IDENTITY CASCADE';
  END IF;
END $$
"""


async def _truncate_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            # A connection some test left idle in a transaction would make this wait
            # for ever: fail loudly instead, naming what holds the lock.
            await connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            try:
                await connection.execute(text(_EMPTY_TABLES))
            except DBAPIError as exc:
                raise RuntimeError(
                    f"could not empty the test database: {exc}; still open: "
                    f"{await _open_transactions(url)}"
                ) from exc
    finally:
        await engine.dispose()


async def _create_worker_database(url: str) -> None:
    target = make_url(url)
    engine = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _worker_database() -> None:
    if POSTGRES_URL and WORKER:
        asyncio.run(_create_worker_database(POSTGRES_URL))


async def _open_transactions(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT state || ': ' || left(query, 160) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
            return list(rows.scalars())
    finally:
        await engine.dispose()


async def _migrate_sqlite(path: Path) -> None:
    # The server's own engine (its pragmas, foreign keys on), as at a real start-up.
    engine = create_engine(
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=path.parent,
            database_url=f"sqlite+aiosqlite:///{path}",
            secret_key=TEST_SECRET_KEY,
        )
    )
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()
    # The last connection's close folds the write-ahead log into the file: the copy is whole.
    assert not path.with_name(path.name + "-wal").exists()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the heads once per worker: each SQLite test starts
    from a copy, so the app's start-up finds nothing to migrate (migrating an empty file
    was about half of each start-up). Migrating from nothing stays covered by this
    fixture, the PostgreSQL variants and the CLI tests that start on an empty folder."""
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    asyncio.run(_migrate_sqlite(path))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: Path
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        database = tmp_path / "hyperoru.db"
        shutil.copyfile(_migrated_sqlite, database)
        # As the server would have created it: private, so nothing warns about its mode.
        database.chmod(PRIVATE_FILE_MODE)
        yield f"sqlite+aiosqlite:///{database}"
        return
    if not POSTGRES_URL:
        _service_missing("postgres")
    assert POSTGRES_URL
    await _truncate_postgres(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """For tests of the scaled shape only (several processes sharing one database)."""
    if not POSTGRES_URL:
        _service_missing("postgres")
    assert POSTGRES_URL
    await _truncate_postgres(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    """This test worker's own Redis database, emptied: rate-limit counters and streams
    keyed by user or trader id would otherwise carry over from an earlier test whose
    fresh database handed out the same ids."""
    if not REDIS_URL:
        _service_missing("redis")
    assert REDIS_URL
    from redis import Redis

    with Redis.from_url(REDIS_URL) as redis:
        redis.flushdb()
    return REDIS_URL


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "secret_key": TEST_SECRET_KEY,
            "log_level": "INFO",
            "market_sim_seed": MARKET_SEED,
            # API tests drive cycles themselves; runtime tests turn the scheduler on.
            "runtime": "off",
            # Bot tests tick the delivery worker themselves (tests/notifications).
            "bots": "off",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with running(application):
        yield application


# Start-up runs the migrations and shutdown stops every runtime: on a loaded machine both
# can take several seconds. A hang still fails the test, just not a slow machine.
LIFESPAN_SECONDS = 60


class _Lifespan(LifespanManager):
    """A start-up or shutdown past its limit fails with every task's stack in the report:
    a hang there is a bug of ours, to be found from what was still waiting."""

    async def startup(self) -> None:
        try:
            await super().startup()
        except TimeoutError:
            _print_tasks("start-up")
            raise

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        except TimeoutError:
            _print_tasks("shutdown")
            raise


def _print_tasks(phase: str) -> None:
    print(f"the app's {phase} took over {LIFESPAN_SECONDS} s; the tasks still pending:")
    for task in asyncio.all_tasks():
        task.print_stack(limit=30, file=sys.stdout)


def running(application: FastAPI) -> LifespanManager:
    """The app's lifespan for a test: ``async with running(app):``."""
    return _Lifespan(
        application, startup_timeout=LIFESPAN_SECONDS, shutdown_timeout=LIFESPAN_SECONDS
    )


def asgi_client(application: FastAPI, client_ip: str = "203.0.113.10") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(
        app=application, raise_app_exceptions=False, client=(client_ip, 40000)
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def two_processes(
    settings: Settings,
) -> AsyncIterator[tuple[FastAPI, FastAPI, httpx.AsyncClient, httpx.AsyncClient]]:
    """Two API processes of the scaled shape in one test: two apps on the same settings
    (one database, one Redis), each running, each with its own client."""
    first, second = create_app(settings), create_app(settings)
    async with (
        running(first),
        running(second),
        asgi_client(first) as one,
        asgi_client(second) as two,
    ):
        yield first, second, one, two


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    """A real OpenAI-compatible model server on loopback (tests/strategies/fake_llm.py)."""
    async with fake_llm() as server:
        yield server
