"""PostgreSQL for a bench run: a throw-away cluster on loopback (started the way
``scripts/test.sh`` starts one), or a scratch database on a server the caller names; and
the connection count sampled from ``pg_stat_activity``."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from scale.measure import ConnectionSample
from scale.processes import SetupFailed

# Two workers and one API process, each with SQLAlchemy's pool of 10 + 20 overflow, plus
# the bench's own sampler: the default of 100 could refuse connections the code is
# allowed to open, which would measure the cluster's setting rather than the server.
MAX_CONNECTIONS = 300


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found or not (found[-1] / "initdb").exists():
        raise SetupFailed("no PostgreSQL binaries under /usr/lib/postgresql; pass --postgres-url")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SetupFailed(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")


def _start_cluster(workdir: Path) -> tuple[list[str], int]:
    """initdb and start a cluster in ``workdir/pg``; answers its pg_ctl command and port."""
    bin_dir = _postgres_bin()
    data = workdir / "pg"
    data.mkdir()
    as_postgres: list[str] = []
    if os.getuid() == 0:  # initdb refuses to run as root
        as_postgres = ["runuser", "-u", "postgres", "--"]
        workdir.chmod(0o755)
        shutil.chown(data, "postgres")
    port = _free_port()
    initdb = [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "hyperoru"]
    _run([*initdb, "--auth=trust", "-E", "UTF8"], "initdb")
    options = f"-h 127.0.0.1 -p {port} -k {data} -c max_connections={MAX_CONNECTIONS}"
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    _run([*pg_ctl, "-l", str(data / "log"), "-w", "-o", options, "start"], "pg_ctl start")
    return pg_ctl, port


def _stop_cluster(pg_ctl: list[str]) -> None:
    subprocess.run(
        [*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60, check=False
    )


@contextlib.asynccontextmanager
async def throwaway_cluster(workdir: Path) -> AsyncIterator[str]:
    """A fresh cluster in ``workdir/pg`` on a free loopback port; yields an admin URL."""
    pg_ctl, port = await asyncio.to_thread(_start_cluster, workdir)
    try:
        yield f"postgresql+asyncpg://hyperoru@127.0.0.1:{port}/postgres"
    finally:
        await asyncio.to_thread(_stop_cluster, pg_ctl)


@contextlib.asynccontextmanager
async def restartable_cluster(workdir: Path) -> AsyncIterator[tuple[str, Callable[[], None]]]:
    """Like ``throwaway_cluster``, also yielding a blocking ``restart()``: a fast shutdown
    (every session is ended, as an operator's restart does) and a start with the same
    options (``pg_ctl`` keeps them in ``postmaster.opts``)."""
    pg_ctl, port = await asyncio.to_thread(_start_cluster, workdir)

    def restart() -> None:
        log = str(workdir / "pg" / "log")  # without it the server would hold our pipe open
        _run([*pg_ctl, "-l", log, "-m", "fast", "-w", "restart"], "pg_ctl restart")

    try:
        yield f"postgresql+asyncpg://hyperoru@127.0.0.1:{port}/postgres", restart
    finally:
        await asyncio.to_thread(_stop_cluster, pg_ctl)


def require_loopback(url: str) -> None:
    host = make_url(url).host or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SetupFailed(f"--postgres-url must point at a loopback address, not {host!r}")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on ``server_url``'s server for this run, dropped afterwards;
    yields its SQLAlchemy URL."""
    name = f"hyperoru_bench_{os.getpid()}_{int(time.time())}"
    admin = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.PostgresError as exc:
        await admin.close()
        raise SetupFailed(f"could not create a scratch database: {exc}") from None
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def sample_connections(
    url: str, samples: list[ConnectionSample], every_seconds: float = 1.0
) -> None:
    """Append the run database's connections (all, and those not idle: in a query or
    holding a transaction open) every ``every_seconds`` until cancelled."""
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        while True:
            rows = await connection.fetch(
                "SELECT state, count(*) AS n FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "GROUP BY state"
            )
            total = sum(row["n"] for row in rows)
            busy = sum(row["n"] for row in rows if row["state"] not in ("idle", None))
            samples.append(ConnectionSample(time.time(), total, busy))
            await asyncio.sleep(every_seconds)
    finally:
        await connection.close()
