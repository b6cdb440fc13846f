"""`hyperoru db …`: database maintenance."""

from __future__ import annotations

import asyncio

import typer

from hyperoru.cli.common import database, load_settings, out

db_app = typer.Typer(help="Database maintenance", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (every command does this first; -v lists them)."""
    settings = load_settings()

    async def run() -> None:
        async with database(settings):
            pass

    asyncio.run(run())
    out.print("database is up to date")
