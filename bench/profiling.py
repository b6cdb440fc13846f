"""What the in-process profiles (``order_profile.py``, ``request_profile.py``) share: the
app under the bench server's settings, the statements a request runs, and cProfile's
entries grouped by where the code lives.

Function calls, unlike seconds, do not move with the machine's load: on a shared machine
they compare two versions of the code better than timings do.
"""

from __future__ import annotations

import contextlib
import contextvars
import pstats
import tempfile
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from auth.serve import bench_settings, hyperoru_app

# Which request a statement belongs to; unset for background work (monitor, jobs).
REQUEST: contextvars.ContextVar[str | None] = contextvars.ContextVar("request", default=None)

CLIENT = "in-process client (not the server)"

# Self time grouped by where the code lives: the first matching fragment of the path.
GROUPS: tuple[tuple[str, str], ...] = (
    ("hyperoru/auth", "auth (token, session, rate limit)"),
    ("hyperoru/ratelimit", "auth (token, session, rate limit)"),
    ("hyperoru/trading/engine", "engine (pure)"),
    ("hyperoru/trading/codec", "ledger state codec"),
    ("hyperoru/trading/ledger_store", "ledger writes"),
    ("hyperoru/trading/paper_client", "paper client"),
    ("hyperoru/trading/market_feed", "market feed"),
    ("hyperoru/trading", "trading (routes, service, schemas)"),
    ("hyperoru/accounts", "accounts (owned trader)"),
    ("hyperoru/notifications", "notifications outbox"),
    ("hyperoru/realtime", "event bus"),
    ("hyperoru/db", "db driver (hyperoru)"),
    ("hyperoru/http", "middleware (hyperoru)"),
    ("hyperoru/metrics", "middleware (hyperoru)"),
    ("hyperoru/logging_setup", "logging"),
    ("hyperoru", "hyperoru, other"),
    ("sqlalchemy", "SQLAlchemy"),
    ("aiosqlite", "driver (aiosqlite/asyncpg)"),
    ("asyncpg", "driver (aiosqlite/asyncpg)"),
    ("sqlite3", "driver (aiosqlite/asyncpg)"),
    ("greenlet", "SQLAlchemy"),
    ("fastapi", "framework (FastAPI, Starlette)"),
    ("starlette", "framework (FastAPI, Starlette)"),
    ("pydantic", "pydantic"),
    ("httpx", CLIENT),
    ("httpcore", CLIENT),
    ("anyio", "framework (FastAPI, Starlette)"),
    ("logging", "logging"),
    ("json", "json"),
    ("asyncio", "asyncio (loop, queues, waiting on threads)"),
    ("selectors", "asyncio (loop, queues, waiting on threads)"),
    ("threading", "asyncio (loop, queues, waiting on threads)"),
    ("decimal", "Decimal"),
)

Entry = tuple[str, int, str]  # pstats' key: file, line, function


def group_of(filename: str, function: str, groups: Iterable[tuple[str, str]] = GROUPS) -> str:
    if "select.epoll" in function:
        return "event loop idle (waiting for SQLite's thread or the client)"
    if "SimpleQueue" in function:
        return "driver (aiosqlite/asyncpg)"
    for fragment, group in groups:
        if fragment in filename:
            return group
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C calls)"
    return "other"


def entries(stats: pstats.Stats) -> dict[Entry, tuple[Any, ...]]:
    """pstats' rows: (primitive calls, calls, self time, cumulative time, callers)."""
    return stats.stats  # type: ignore[attr-defined,no-any-return]


def by_group(
    stats: pstats.Stats, groups: Iterable[tuple[str, str]] = GROUPS
) -> tuple[Counter[str], Counter[str]]:
    """Self seconds and function calls by group."""
    groups = tuple(groups)
    seconds: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for (filename, _, function), row in entries(stats).items():
        group = group_of(filename, function, groups)
        seconds[group] += row[2]
        calls[group] += row[1]
    return seconds, calls


class Statements:
    """The statements each kind of request runs (``REQUEST`` names the kind)."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.shapes: dict[str, list[str]] = defaultdict(list)
        self.requests: Counter[str] = Counter()

    def note(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        kind = REQUEST.get()
        if kind is None:
            return
        self.count[kind] += 1
        if self.requests[kind] == 1:  # the shape of one request, after the warm-up
            self.shapes[kind].append(" ".join(statement.split()[:6]))


@contextlib.asynccontextmanager
async def running_app(database_url: str | None, **settings_changes: Any) -> AsyncIterator[Any]:
    """Hyperoru as the bench server builds it (log level WARNING unless changed), SQLite in
    a temporary folder unless ``database_url``, started and stopped around the block."""
    from asgi_lifespan import LifespanManager

    with tempfile.TemporaryDirectory(prefix="hyperoru-profile-") as tmp:
        settings = bench_settings(Path(tmp) / "data", database_url)
        settings = settings.model_copy(update={"log_level": "WARNING", **settings_changes})
        app = hyperoru_app(settings)
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=120):
            yield app
