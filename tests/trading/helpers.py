"""Helpers of the trading API tests: a trader with a token, and order calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.accounts.helpers import create_trader
from tests.helpers import Api


@dataclass
class Trader:
    api: Api
    token: str
    account: dict[str, Any]
    user: dict[str, Any]

    @property
    def id(self) -> int:
        return self.account["id"]

    @property
    def headers(self) -> dict[str, str]:
        return self.api.bearer(self.token)

    async def create(self, **order: Any) -> httpx.Response:
        body = {"account_id": self.id, "symbol": "BTC", "order_type": "market", **order}
        return await self.api.client.post("/api/orders/create", json=body, headers=self.headers)

    async def execute(self, order_id: int) -> httpx.Response:
        return await self.api.client.post(f"/api/orders/execute/{order_id}", headers=self.headers)

    async def trade(self, **order: Any) -> dict[str, Any]:
        """Create and execute; the execution must not be rejected."""
        created = await self.create(**order)
        assert created.status_code == 201, created.text
        executed = await self.execute(created.json()["id"])
        assert executed.status_code == 200, executed.text
        body = executed.json()
        assert body["execution_status"] != "rejected", body
        return body

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.api.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


async def new_trader(api: Api, **fields: Any) -> Trader:
    user, token = await api.user()
    account = await create_trader(api, token, **fields)
    return Trader(api, token, account, user)


async def tick(app: FastAPI) -> None:
    await app.state.services.trading.monitor.tick()
