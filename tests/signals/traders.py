"""Traders for the signal tests: builtin model, BTC and ETH, no schedule of their own."""

from __future__ import annotations

from typing import Any

from tests.accounts.helpers import create_trader
from tests.helpers import Api


async def quiet_trader(
    api: Api, token: str, name: str, pool_ids: list[int] | None = None
) -> dict[str, Any]:
    """A builtin-model trader whose own strategy (its primary binding) lists the symbols and
    ``pool_ids`` and runs on no schedule, so every decision it makes comes from a signal
    (through its strategy or one of its bindings)."""
    trader = await create_trader(api, token, name=name, llm_provider="builtin")
    strategy: dict[str, Any] = {"symbols": ["BTC", "ETH"], "scheduled_trigger_enabled": False}
    if pool_ids is not None:
        strategy["signal_pool_ids"] = pool_ids
    response = await api.client.put(
        f"/api/account/{trader['id']}/strategy", json=strategy, headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    return trader


async def decisions(api: Api, token: str, trader_id: int) -> list[dict[str, Any]]:
    response = await api.client.get(
        f"/api/account/{trader_id}/decisions", headers=api.bearer(token)
    )
    assert response.status_code == 200
    return response.json()
