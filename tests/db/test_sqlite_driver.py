"""The SQLite driver: one trip to the connection's thread per statement, results as
sqlite3 gives them, and in-process writers queued on the engine's gate instead of
SQLite's busy handler (which these tests switch off, so any collision would fail)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from hyperoru.db.engine import create_engine
from hyperoru.db.sqlite_driver import StopOnceConnection, WriteGate
from hyperoru.settings import Settings
from tests.conftest import TEST_SECRET_KEY

HANG = 30.0  # reaching it means a hang, not slowness


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        secret_key=TEST_SECRET_KEY,
    )
    created = create_engine(settings)

    @event.listens_for(created.sync_engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        # Without the busy handler a second writer fails at once: only the gate can
        # make concurrent writers below succeed.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    async with created.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
    yield created
    await asyncio.wait_for(created.dispose(), HANG)


class _CountedQueue:
    """Stands in for the connection's queue on the loop's side; the thread keeps reading
    the real one."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.trips = queue, 0

    def put_nowait(self, item: Any) -> None:
        self.trips += 1
        self.queue.put_nowait(item)


def _count_trips(connection: StopOnceConnection) -> _CountedQueue:
    counted = _CountedQueue(connection._tx)
    connection._tx = counted  # type: ignore[assignment]
    return counted


async def _driver(connection: Any) -> StopOnceConnection:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, StopOnceConnection)
    return driver


async def test_a_statement_is_one_trip_and_an_idle_commit_none(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        trips = _count_trips(await _driver(connection))
        rows = (await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
        assert [r[0] for r in rows] == [1, 2]
        assert trips.trips == 1  # cursor, execute, fetch and close in one
        await connection.commit()  # nothing was written: SQLite would do nothing
        assert trips.trips == 1
        await connection.execute(text("INSERT INTO t (v) VALUES (1)"))
        await connection.commit()
        assert trips.trips == 3


async def test_results_are_those_of_sqlite3(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (v) VALUES (10)"))
        assert inserted.lastrowid == 1
        await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": 20}, {"v": 30}])
        updated = await connection.execute(text("UPDATE t SET v = v + 1 WHERE v >= 20"))
        assert updated.rowcount == 2
        result = await connection.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert result.fetchmany(2) == [(1, 10), (2, 21)]
        assert result.fetchall() == [(3, 31)]
    async with engine.connect() as connection:
        stream = await connection.stream(text("SELECT v FROM t ORDER BY v"))
        assert [row[0] async for row in stream] == [10, 21, 31]


async def test_concurrent_write_transactions_queue_instead_of_failing(
    engine: AsyncEngine,
) -> None:
    async def writer(n: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": n})
            for _ in range(5):
                await asyncio.sleep(0)  # the others start meanwhile
            await connection.execute(text("UPDATE t SET v = v * 10 WHERE v = :v"), {"v": n})

    await asyncio.wait_for(asyncio.gather(*(writer(n) for n in range(1, 9))), HANG)
    async with engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all()
    assert values == [n * 10 for n in range(1, 9)]


async def test_the_gate_is_given_back_after_an_error_and_rollback(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (id, v) VALUES (1, 1)"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (id, v) VALUES (1, 2)"))
    async with engine.begin() as connection:  # would wait for ever on a kept gate
        await asyncio.wait_for(connection.execute(text("INSERT INTO t (v) VALUES (3)")), HANG)


async def test_a_writer_cancelled_mid_transaction_gives_the_gate_back(
    engine: AsyncEngine,
) -> None:
    inside, never = asyncio.Event(), asyncio.Event()

    async def stuck_writer() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (v) VALUES (1)"))
            inside.set()
            await never.wait()

    task = asyncio.create_task(stuck_writer())
    await asyncio.wait_for(inside.wait(), HANG)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with engine.begin() as connection:
        await asyncio.wait_for(connection.execute(text("INSERT INTO t (v) VALUES (2)")), HANG)
    async with engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t"))).scalars().all()
    assert values == [2]  # the cancelled transaction was rolled back


async def test_a_writer_waiting_past_the_timeout_fails_as_sqlite_would(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as holder:
        await holder.execute(text("INSERT INTO t (v) VALUES (1)"))
        async with engine.connect() as waiter:
            driver = await _driver(waiter)
            assert driver.gate is not None
            driver.gate.timeout = 0
            try:
                with pytest.raises(OperationalError, match="database is locked"):
                    await waiter.execute(text("INSERT INTO t (v) VALUES (2)"))
            finally:
                driver.gate.timeout = WriteGate().timeout
    async with engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t"))).scalars().all()
    assert values == [1]
