"""`hyperoru db …`: database maintenance."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from hyperoru.cli.common import database, fail, load_settings, out
from hyperoru.data_dir import sqlite_file
from hyperoru.db.backup import BackupError, BackupSummary, backup_sqlite, restore_sqlite
from hyperoru.db.in_use import DatabaseInUse
from hyperoru.db.pg_backup import backup_postgres, other_sessions, restore_postgres
from hyperoru.settings import Settings

db_app = typer.Typer(help="Database maintenance", no_args_is_help=True)


def _upgrade(settings: Settings) -> None:
    async def run() -> None:
        async with database(settings):
            pass

    asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (every command does this first; -v lists them)."""
    _upgrade(load_settings())
    out.print("database is up to date")


@db_app.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="The new backup file (never overwritten)")],
) -> None:
    """Copy the database into a new file, safely while the server runs (SQLite: the online
    backup API; PostgreSQL: pg_dump's custom format)."""
    settings = load_settings()
    url = settings.resolved_database_url
    database_file = sqlite_file(url)
    try:
        if database_file is not None:
            summary: BackupSummary = backup_sqlite(database_file, target)
        else:
            summary = backup_postgres(url, target)
    except BackupError as error:
        fail(str(error))
    out.print(
        f"backup written: {summary.path} ({summary.size_bytes} bytes, schema "
        f"{', '.join(summary.revisions)}); it holds password hashes and sealed secrets: "
        "keep it as private as the data folder, and keep the master key to read the secrets"
    )


def _confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:  # no answer at all (end of input)
        return False


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(help="A file written by `hyperoru db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the database without asking")] = False,
) -> None:
    """Replace the database with a backup (the server and workers must be stopped), then
    apply any newer migrations."""
    settings = load_settings()
    url = settings.resolved_database_url
    if not yes and not _confirmed(f"Replace every row of the database with {source}?"):
        fail("nothing restored")
    database_file = sqlite_file(url)
    try:
        if database_file is not None:
            kept = restore_sqlite(source, database_file)
            if kept is not None:
                out.print(f"the replaced database was kept as {kept}")
        else:
            restore_postgres(source, url, sessions=asyncio.run(other_sessions(url)))
    except (BackupError, DatabaseInUse) as error:
        fail(str(error))
    _upgrade(settings)
    out.print(f"restored from {source}; the database is up to date")
