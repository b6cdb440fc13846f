"""Backups of a SQLite database: taken online, checked, restored only while nothing runs.

A backup is SQLite's online backup API copying every page under one read transaction, so
it is a consistent snapshot even while the server writes (WAL readers never block
writers). The copy is switched out of WAL mode so that it is one self-contained file, and
checked (``PRAGMA integrity_check``) before the command reports success.

A restore refuses a file that is not an intact hyperoru database or that was written by a
newer hyperoru (a schema revision this code does not know), and runs only while no
server or worker holds the database (``db.in_use``). The database it replaces is kept
next to it first, so a restore of the wrong file can itself be undone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory

from hyperoru.data_dir import ensure_private_file
from hyperoru.db.in_use import exclusive
from hyperoru.db.migrate import alembic_config


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    size_bytes: int
    revisions: tuple[str, ...]


def unknown_revisions(revisions: Iterable[str]) -> list[str]:
    """The schema revisions this version of hyperoru has no migration for."""
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    return sorted(set(revisions) - known)


def check_revisions(revisions: tuple[str, ...], source: Path) -> None:
    if not revisions:
        raise BackupError(f"{source} is not a hyperoru database (it has no schema revision)")
    newer = unknown_revisions(revisions)
    if newer:
        raise BackupError(
            f"{source} was written by a newer hyperoru (unknown schema revisions: "
            f"{', '.join(newer)}): upgrade hyperoru before restoring it"
        )


@contextmanager
def new_backup_file(target: Path) -> Iterator[None]:
    """Create ``target`` private (it holds password hashes and sealed secrets) for the
    block to fill; a block that fails leaves no half-written backup behind."""
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    ensure_private_file(target)
    try:
        yield
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _inspect(connection: sqlite3.Connection, path: Path) -> tuple[str, ...]:
    """The file's schema revisions, after checking it is an intact SQLite database."""
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            problems = "; ".join(str(row[0]) for row in verdict[:3])
            raise BackupError(f"{path} is damaged: {problems}")
        tables = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchall()
        if not tables:
            return ()
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable hyperoru database: {error}") from None
    return tuple(sorted(str(row[0]) for row in rows))


def backup_sqlite(database: Path, target: Path) -> BackupSummary:
    """Copy the live ``database`` into the new file ``target`` (never overwritten)."""
    with closing(_open_read_only(database)) as source, new_backup_file(target):
        with closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            revisions = _inspect(copy, target)
        check_revisions(revisions, database)
    return BackupSummary(target, target.stat().st_size, revisions)


def restore_sqlite(backup: Path, database: Path, *, now: datetime | None = None) -> Path | None:
    """Replace ``database`` with the contents of ``backup``; returns where the replaced
    database was kept (``None`` when there was none)."""
    with closing(_open_read_only(backup)) as source:
        check_revisions(_inspect(source, backup), backup)
        with exclusive(database):
            kept = _keep_current(database, now or datetime.now(UTC))
            ensure_private_file(database)
            with closing(sqlite3.connect(database)) as target:
                source.backup(target)
                target.execute("PRAGMA journal_mode=WAL")
    return kept


def _keep_current(database: Path, now: datetime) -> Path | None:
    if not database.is_file() or database.stat().st_size == 0:
        return None
    kept = database.with_name(f"{database.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
    backup_sqlite(database, kept)
    return kept
