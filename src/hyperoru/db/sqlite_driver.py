"""SQLite connections for the async engine: aiosqlite with a close that always ends, one
trip to the connection's thread per statement, and writers queued in-process.

aiosqlite (0.22) runs each connection in a worker thread fed by a queue; ``stop()``
queues a last item after which the thread exits. Its ``close()`` ends by queueing
another stop and waiting for the thread to answer it, so a ``close()`` that follows or
overlaps an earlier ``stop()`` waits for ever: the thread left at the first one.

SQLAlchemy does exactly that when a task is cancelled while it holds a connection: the
pool terminates the connection with a graceful ``close()`` in a shielded task and, as
the wait for it is cancelled too, a forced ``stop()``. The shielded task then never
finishes, and whatever waits for every task (a server's shutdown, ``asyncio.run``)
hangs with it. Cancelling a running backtest, or a client hanging up mid-request, is
enough. Here a connection stops once: a later ``stop()`` or ``close()`` has nothing to
wait for, because the thread closes the SQLite handle on its way out.

Trips: every trip to the thread costs a queue put, a thread wake-up, a GIL hand-off and
a wake-up of the event loop (70-100 µs of CPU on this project's 2-core machine), and
aiosqlite's cursor makes three or four per statement (create, execute, fetch, close).
``OneTripCursor`` makes one: the thread creates the cursor, executes, fetches every row
and closes it in a single call. A commit or rollback with no transaction open (the
pool's reset of every returned connection) makes none: SQLite would do nothing.

Writers: SQLite has one write lock per database. A connection that wants it while
another holds it sleeps in SQLite's busy handler (1, 2, 5 … 100 ms) and polls again,
so in-process writers queue on each other in sleeps that leave the lock idle and the
tail in seconds. Connections of one engine therefore take a ``WriteGate`` (an asyncio
lock) before the statement that opens a write transaction and give it back when the
transaction ends (commit, rollback, close): the next writer starts the moment the lock
is free. Other processes still meet ``busy_timeout``; a writer that waits for the gate
longer than that fails as SQLite would have ("database is locked").
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url

# aiosqlite's default: rows fetched per trip to the worker thread when iterating.
ITER_CHUNK_SIZE = 64
# As long as SQLite's busy_timeout (db/engine.py): a writer waits for the gate no longer
# than it would have waited for the database's lock.
GATE_TIMEOUT_SECONDS = 10.0

# What a trip returns: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any]]


class WriteGate:
    """One writer at a time among an engine's connections, per event loop."""

    def __init__(self, timeout: float = GATE_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        found = self._locks.get(loop)
        if found is None:
            found = self._locks[loop] = asyncio.Lock()
        return found


def _opens_no_transaction(sql: str) -> bool:
    # Python's sqlite3 (legacy isolation) begins a transaction before the first
    # INSERT/UPDATE/DELETE/REPLACE; a SELECT outside one is its own read in WAL mode. The
    # connection's PRAGMAs (db/engine.py) are its own settings and run while another
    # connection writes, as a new connection's must: a writer that opens a second
    # connection would otherwise wait for itself. Anything else (DML, BEGIN, SAVEPOINT,
    # DDL) takes the gate, which is only ever too safe.
    return sql.lstrip()[:6].upper() in ("SELECT", "PRAGMA")


class OneTripCursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives, answered in one trip per
    statement. Rows are fetched in the same trip, so a "server-side" cursor is buffered
    too (nothing in Hyperoru streams from SQLite)."""

    arraysize = 1

    def __init__(self, connection: StopOnceConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return self._take(await self._connection.statement(sql, parameters or (), many=False))

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        return self._take(await self._connection.statement(sql, parameters, many=True))

    def _take(self, outcome: _Outcome) -> OneTripCursor:
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(size or self.arraysize, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while self._rows:
            yield self._rows.popleft()


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class StopOnceConnection(aiosqlite.Connection):
    _stop_requested = False
    # Set by ``sqlite_connector``: the engine's gate; None (a bare connection) takes none.
    gate: WriteGate | None = None
    _held: asyncio.Lock | None = None  # the gate's lock while this connection writes

    def stop(self) -> asyncio.Future[Any] | None:
        if self._stop_requested:
            return None  # the thread already has its last item; nothing more will answer
        self._stop_requested = True
        stopped = super().stop()
        if self._held is not None:
            # Closing rolls back whatever was open. Given back when the thread has closed
            # the handle, or at once when nobody will hear it (no loop, the wait cancelled):
            # a writer let in early meets busy_timeout for those few moments, no worse.
            if stopped is None:
                self._settle(False)
            else:
                stopped.add_done_callback(lambda _: self._settle(False))
        return stopped

    async def close(self) -> None:
        if self._stop_requested:
            return
        await super().close()

    # -- one trip per statement ---------------------------------------------------------

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        # aiosqlite's cursor() is an awaitable context manager making a trip of its own;
        # SQLAlchemy only enters it, which this cursor does without one.
        return OneTripCursor(self)

    async def statement(self, sql: str, parameters: Any, *, many: bool) -> _Outcome:
        work = partial(_run, self._live(), sql, parameters, many)  # a closed one raises first
        if self.gate is not None and self._held is None and not _opens_no_transaction(sql):
            await self._enter_gate(self.gate)
        # No await between the gate and the queue: the trip that settles it is queued.
        return await self._trip(work)

    async def commit(self) -> None:
        if self._open_transaction():
            await self._trip(self._conn.commit)

    async def rollback(self) -> None:
        if self._open_transaction():
            await self._trip(self._conn.rollback)

    def _live(self) -> sqlite3.Connection:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")  # as aiosqlite's own calls say it
        return self._connection

    def _open_transaction(self) -> bool:
        # Read on the loop between trips (SQLAlchemy never overlaps two on a connection):
        # sqlite3_get_autocommit, a field read.
        return self._live().in_transaction

    def _in_transaction_now(self) -> bool:
        handle = self._connection
        try:
            return handle is not None and handle.in_transaction
        except sqlite3.ProgrammingError:  # closed meanwhile: nothing is open any more
            return False

    async def _trip(self, work: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()

        def settled() -> Any:
            try:
                return work()
            finally:
                # Scheduled from the thread, before the answer is: a caller cancelled
                # meanwhile cannot keep the gate (the rollback or close that follows
                # settles it again).
                if self._held is not None:
                    loop.call_soon_threadsafe(self._settle, self._in_transaction_now())

        return await self._execute(settled)  # type: ignore[no-untyped-call]

    async def _enter_gate(self, gate: WriteGate) -> None:
        lock = gate.lock()
        try:
            async with asyncio.timeout(gate.timeout):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._held = lock

    def _settle(self, transaction_open: bool) -> None:
        held = self._held
        if held is not None and not transaction_open:
            self._held = None
            held.release()


def sqlite_connector(url: str) -> Callable[[], StopOnceConnection]:
    """What ``create_async_engine(async_creator=...)`` calls for a new connection to
    ``url``, opened with the arguments SQLAlchemy itself would derive from the URL. The
    connections of one connector (one engine) share a ``WriteGate``."""
    parsed = make_url(url)
    dialect = parsed.get_dialect()()
    args, kwargs = dialect.create_connect_args(parsed)
    gate = WriteGate()

    def connect() -> StopOnceConnection:
        connection = StopOnceConnection(partial(sqlite3.connect, *args, **kwargs), ITER_CHUNK_SIZE)
        connection.gate = gate
        # Like SQLAlchemy's own aiosqlite connect: a connection somebody forgot never
        # keeps the process from exiting.
        connection._thread.daemon = True
        return connection

    return connect
