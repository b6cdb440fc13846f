"""A PostgreSQL outage (the server stopped, then started again) is a 503 to retry, with
``Retry-After``, on every route that needs the database, never a 500; and the process
answers again by itself once PostgreSQL is back (the pool reconnects), with no restart.

A private cluster, since stopping the suite's shared one would fail every other test."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.e2e.server import free_port
from tests.helpers import Api, assert_error

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


class PostgresServer:
    """initdb once, then stop and start at will on a fixed loopback port."""

    def __init__(self, folder: Path) -> None:
        self.data = folder / "pg"
        self.port = free_port()
        self.bin = PG_BINS[-1]
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://hyperoru@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, check: bool = True) -> None:
        subprocess.run([*self.as_postgres, *argv], check=check, capture_output=True, timeout=120)

    def create(self) -> None:
        self.data.mkdir()
        if self.as_postgres:
            self.data.parent.chmod(0o755)
            shutil.chown(self.data, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "hyperoru",
                  "--auth=trust", "-E", "UTF8")  # fmt: skip
        self.start()

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data}"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.data / "log"), "-w", "-o", options, "start")  # fmt: skip

    def stop(self, check: bool = True) -> None:
        pg_ctl = str(self.bin / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "stop", check=check)


@pytest.mark.skipif(not PG_BINS, reason="no PostgreSQL binaries under /usr/lib/postgresql")
async def test_a_stopped_database_is_a_503_and_the_process_recovers(
    make_settings: Callable[..., Settings],
) -> None:
    # Not under tmp_path: the postgres user must reach the folder, and pytest's are 700.
    folder = Path(tempfile.mkdtemp(prefix="hyperoru-outage-"))
    os.chmod(folder, 0o755)
    postgres = PostgresServer(folder)
    await asyncio.to_thread(postgres.create)
    try:
        app = create_app(make_settings(database_url=postgres.url))
        async with running(app), asgi_client(app) as client:
            api = Api(client)
            _, token = await api.user()
            headers = api.bearer(token)
            assert (await client.get("/api/account/list", headers=headers)).status_code == 200

            await asyncio.to_thread(postgres.stop)
            # (The trader list itself is served from the process's read copy meanwhile.)
            for answer in (
                await client.get("/api/prompts/", headers=headers),
                await client.post("/api/account/", json={"name": "t"}, headers=headers),
            ):
                refused = assert_error(answer, 503, "SERVICE_UNAVAILABLE")
                assert refused["details"] == {"service": "database"}
                assert answer.headers["retry-after"] == "2"
            health = await client.get("/api/health")
            assert health.status_code == 503 and health.json()["database"] == "error"

            await asyncio.to_thread(postgres.start)
            created = await client.post("/api/account/", json={"name": "t"}, headers=headers)
            assert created.status_code == 201, created.text
            assert (await client.get("/api/health")).status_code == 200
    finally:
        await asyncio.to_thread(postgres.stop, check=False)
        shutil.rmtree(folder, ignore_errors=True)
