"""Backups of a PostgreSQL database through PostgreSQL's own ``pg_dump`` and ``pg_restore``.

The dump is the custom format (compressed, restorable table by table). The password goes
to the tools in their environment (``PGPASSWORD``), never on a command line that ``ps``
shows. A restore refuses a dump written by a newer hyperoru, refuses while another
session is connected to the database (a running server or worker), and replaces the
schema's objects in one transaction: it either completes or leaves the database as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hyperoru.db.backup import BackupError, BackupSummary, check_revisions, new_backup_file

# Debian and Ubuntu keep every installed PostgreSQL under one folder per major version,
# outside PATH; the newest one can dump every older server.
_DEBIAN_POSTGRES = Path("/usr/lib/postgresql")


def find_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        _DEBIAN_POSTGRES.glob(f"*/bin/{name}"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} was not found: install PostgreSQL's client tools")


def _environment(url: URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[key] = value
    return env


def _run(arguments: list[str], env: dict[str, str]) -> str:
    # Arguments are a list (no shell) of our own flags and the operator's file names.
    result = subprocess.run(arguments, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(arguments[0]).name} failed: {result.stderr.strip()}")
    return result.stdout


def _dump_revisions(dump: Path, env: dict[str, str]) -> tuple[str, ...]:
    """The schema revisions recorded in a dump, read without restoring it."""
    listing = _run(
        [find_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(dump)],
        env,
    )
    rows: list[str] = []
    copying = False
    for line in listing.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            copying = True
        elif copying and line == "\\.":
            break
        elif copying and line:
            rows.append(line.strip())
    return tuple(sorted(rows))


def backup_postgres(database_url: str, target: Path) -> BackupSummary:
    env = _environment(make_url(database_url))
    with new_backup_file(target):
        _run([find_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}"], env)
        revisions = _dump_revisions(target, env)
        check_revisions(revisions, target)
    return BackupSummary(target, target.stat().st_size, revisions)


async def other_sessions(database_url: str) -> int:
    """How many other sessions are connected to the database now."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await engine.dispose()
    return int(count or 0)


def restore_postgres(dump: Path, database_url: str, *, sessions: int) -> None:
    """Replace the database's contents with ``dump``; ``sessions`` is ``other_sessions``."""
    if not dump.is_file():
        raise BackupError(f"{dump} does not exist")
    env = _environment(make_url(database_url))
    check_revisions(_dump_revisions(dump, env), dump)
    if sessions:
        raise BackupError(
            f"{sessions} other session(s) are connected to the database: "
            "stop the servers and workers first"
        )
    _run(
        [
            find_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={env.get('PGDATABASE', '')}",
            str(dump),
        ],
        env,
    )
