"""Run the `hyperoru` command as a real process against a data directory (and database)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from hyperoru.settings import Settings
from tests.helpers import child_env


def run_cli(
    data_dir: Path,
    *args: str,
    stdin: str = "",
    database_url: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    environment = child_env(data_dir, env)
    if database_url is not None:
        environment["HYPERORU_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "hyperoru", *args],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def run_cli_for(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The command on the database of an app under test (off the test's event loop)."""
    return await asyncio.to_thread(
        run_cli, settings.data_dir, *args, database_url=settings.resolved_database_url
    )
