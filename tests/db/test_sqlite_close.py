"""A SQLite connection taken from a cancelled task is closed without hanging anything.

aiosqlite's own ``close()`` waits for ever when it follows a ``stop()``; SQLAlchemy does
both when a task holding a connection is cancelled twice (a cancelled request or
backtest, then the server's shutdown). These tests drive that sequence step by step.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text

from hyperoru.db.engine import create_engine
from hyperoru.db.sqlite_driver import StopOnceConnection
from hyperoru.settings import Settings
from tests.conftest import TEST_SECRET_KEY

# Generous: each step takes milliseconds. Reaching it means a hang, not slowness.
HANG = 30.0


def _connection(path: Path) -> StopOnceConnection:
    return StopOnceConnection(lambda: sqlite3.connect(path), 64)


async def test_close_after_stop_returns(tmp_path: Path) -> None:
    connection = await _connection(tmp_path / "a.db")
    stopped = connection.stop()
    assert stopped is not None
    await asyncio.wait_for(connection.close(), HANG)
    await asyncio.wait_for(stopped, HANG)
    assert connection.stop() is None  # nothing left to ask the thread
    connection._thread.join(HANG)
    assert not connection._thread.is_alive()


async def test_close_overlapping_a_stop_returns(tmp_path: Path) -> None:
    connection = await _connection(tmp_path / "b.db")
    closing = asyncio.ensure_future(connection.close())
    await asyncio.sleep(0)  # the close is queued for the thread
    connection.stop()
    await asyncio.wait_for(closing, HANG)
    connection._thread.join(HANG)
    assert not connection._thread.is_alive()


def test_plain_aiosqlite_still_needs_this() -> None:
    """When aiosqlite's close stops waiting on a second stop, this module can go."""
    assert aiosqlite.__version__.startswith("0.22"), aiosqlite.__version__


async def test_a_connection_cancelled_twice_mid_statement_leaves_no_task_behind(
    tmp_path: Path,
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        secret_key=TEST_SECRET_KEY,
    )
    engine = create_engine(settings)
    entered, release = threading.Event(), threading.Event()

    def hold() -> int:
        # Runs in the connection's worker thread: the statement is under way until the
        # test lets it go, so the cancels land while the connection is busy.
        entered.set()
        release.wait(HANG)
        return 1

    @event.listens_for(engine.sync_engine, "connect")
    def _register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("hold", 0, hold)  # adapted: runs in the thread

    async def statement() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT hold()"))

    before = asyncio.all_tasks()
    task = asyncio.create_task(statement())
    assert await asyncio.to_thread(entered.wait, HANG)
    task.cancel()  # the request (or backtest) is cancelled...
    for _ in range(1000):
        if any(_closing(t) for t in asyncio.all_tasks()):
            break
        await asyncio.sleep(0)
    else:
        pytest.fail("the pool never started closing the cancelled connection")
    task.cancel()  # ...and then the shutdown cancels what is left
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, HANG)
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    if left:
        _, stuck = await asyncio.wait(left, timeout=HANG)
        assert not stuck, f"tasks that never ended: {stuck}"
    await asyncio.wait_for(engine.dispose(), HANG)


def _closing(task: asyncio.Task[Any]) -> bool:
    return "_terminate_graceful_close" in repr(task.get_coro())
