"""Small helpers shared by API tests."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from hyperoru.settings import Settings

_counter = itertools.count(1)
STRONG_PASSWORD = "correct horse battery staple"

# The simulated market runs on the wall clock, so a test that passes only because of what
# the market happens to be doing now fails later. `HYPERORU_TEST_MARKET_SEED=N bash
# scripts/test.sh` runs every app and `hyperoru` child process of the suite on another
# market to find such tests (docs/CONTRIBUTING.md).
MARKET_SEED = int(os.environ.get("HYPERORU_TEST_MARKET_SEED", "42"))


def child_env(
    data_dir: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a child process of the suite: no HYPERORU_ setting inherited from
    the suite's own environment, the suite's market seed, and ``data_dir`` and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERORU_")}
    env["HYPERORU_MARKET_SIM_SEED"] = str(MARKET_SEED)
    if data_dir is not None:
        env["HYPERORU_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


async def away_from_minute_edge(margin: float = 5.0) -> None:
    """Request budgets weight the previous minute's window, so a test that counts requests
    exactly must not straddle a minute boundary: wait for the next minute if one is near."""
    into_minute = time.time() % 60
    if into_minute > 60 - margin:
        await asyncio.sleep(60 - into_minute + 0.05)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape, with the expected status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "code", "request_id", "details"}, body
    assert body["code"] == code, body
    assert body["error"] == body["message"] and body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@dataclass
class Api:
    """Registers users and logs them in against the app under test."""

    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    async def register(
        self, username: str | None = None, password: str = STRONG_PASSWORD, **extra: Any
    ) -> dict[str, Any]:
        username = username or f"user{next(_counter)}"
        body = {"username": username, "password": password, **extra}
        response = await self.client.post("/api/users/register", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def login(self, username: str, password: str = STRONG_PASSWORD) -> str:
        response = await self.client.post(
            "/api/users/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        token = response.json()["session_token"]
        self.tokens[username] = token
        return token

    async def user(self, username: str | None = None) -> tuple[dict[str, Any], str]:
        """A fresh registered user and a token for them."""
        created = await self.register(username)
        return created, await self.login(created["username"])

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


async def stored_bytes(app: FastAPI, settings: Settings) -> bytes:
    """Everything the database holds, as raw as we can get it: the SQLite files (WAL
    included) byte for byte, or every row of every PostgreSQL table as text."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        await app.state.services.engine.dispose()  # checkpoint what the pool holds
        database = Path(url.split("///", 1)[1])
        files = [p for p in database.parent.glob(database.name + "*") if p.is_file()]
        return b"".join(path.read_bytes() for path in files)
    chunks: list[bytes] = []
    async with app.state.services.engine.connect() as connection:
        tables = (
            (
                await connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            )
            .scalars()
            .all()
        )
        for table in tables:
            rows = await connection.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
            chunks.extend(row.encode() for row in rows.scalars())
    return b"\n".join(chunks)
