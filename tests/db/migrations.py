"""Stepping a running app's database across one migration, for the tests of that step."""

from __future__ import annotations

from typing import Literal

from alembic import command
from fastapi import FastAPI
from sqlalchemy import Connection

from hyperoru.db.migrate import alembic_config


async def migrate(app: FastAPI, revision: str, step: Literal["down", "up"]) -> None:
    """``down``: to just before ``revision``; ``up``: every branch to its head again."""

    def run(connection: Connection) -> None:
        config = alembic_config(connection)
        if step == "down":
            command.downgrade(config, f"{revision}-1")
        else:
            command.upgrade(config, "heads")

    async with app.state.services.engine.begin() as connection:
        await connection.run_sync(run)
    # Pooled PostgreSQL connections cache statements of the old schema.
    await app.state.services.engine.dispose()
