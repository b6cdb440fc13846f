"""Engine and session factory for the configured database URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hyperoru.data_dir import prepare_sqlite
from hyperoru.db.sqlite_driver import sqlite_connector
from hyperoru.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout queues writers
    # instead of failing them with "database is locked".
    # synchronous=NORMAL in WAL mode: a commit appends to the WAL without an fsync (the
    # WAL is synced at checkpoints). The database stays consistent after any crash, and a
    # committed transaction survives the server process dying (killed, out of memory):
    # its pages are already in the operating system's cache. Only a power loss or kernel
    # crash can roll back the last commits before the next checkpoint, never half of one
    # (an order's fill, fee, cash and ledger commit together or not at all). FULL would
    # fsync every commit: 4-5 ms on this project's disk against 0.06-0.09 ms, which caps
    # a writer at about 200 commits a second (bench/README.md, "Orders through the API").
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        prepare_sqlite(url, settings.data_dir)
        engine = create_async_engine(url, async_creator=sqlite_connector(url))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
