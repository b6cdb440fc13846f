"""Small helpers shared by API tests."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

_counter = itertools.count(1)
STRONG_PASSWORD = "correct horse battery staple"


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
