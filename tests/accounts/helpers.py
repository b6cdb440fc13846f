"""Helpers for trader tests: create traders through the API."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api


async def create_trader(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "BTC Trend Trader", **fields}
    response = await api.client.post("/api/account/", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()
