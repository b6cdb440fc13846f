"""Shared helpers of the prompt backtest tests: a trader, a prompt, a submitted task,
and waiting for it to finish (polling the API as a client would)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.accounts.helpers import create_trader
from tests.helpers import Api
from tests.strategies.fake_llm import FakeLlm

API_KEY = "sk-SENTINEL-backtest-0123456789abcdef"
# Two days of 4-hour bars: 12 bars, 11 snapshots (the last bar's decision could not execute).
RANGE = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-03T00:00:00Z"}
SNAPSHOTS = 11
FINISHED = {"completed", "failed", "cancelled"}
HANG_SECONDS = 60
TEMPLATE = (
    "Time {current_time_utc}\n{market_prices}\n{account_state}\n{open_positions}\n"
    "{recent_trades}\n{kline_data}\n{output_format}"
)


async def llm_trader(api: Api, token: str, llm: FakeLlm, **fields: Any) -> dict[str, Any]:
    return await create_trader(
        api,
        token,
        llm_provider="openai",
        llm_model="fake-model-1",
        llm_base_url=llm.base_url,
        llm_api_key=API_KEY,
        max_leverage=5,
        **fields,
    )


async def own_prompt(api: Api, token: str, content: str = TEMPLATE) -> dict[str, Any]:
    response = await api.client.post(
        "/api/prompts/",
        json={"name": "backtested", "content": content},
        headers=api.bearer(token),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def submit(
    api: Api,
    token: str,
    *,
    trader_id: int,
    prompt_id: int,
    path: str = "/api/prompt-backtests",
    **config: Any,
) -> dict[str, Any]:
    body = {
        "prompt_id": prompt_id,
        "account_id": trader_id,
        "config": {"symbols": ["BTC"], "interval": "4h", **RANGE, **config},
    }
    response = await api.client.post(path, json=body, headers=api.bearer(token))
    assert response.status_code == 202, response.text
    return response.json()


async def wait_finished(
    api: Api, token: str, task_id: int, include: str | None = None
) -> dict[str, Any]:
    """Poll until the task ends (the time limit only guards against a hang); ``include``
    names the long parts to read along (a poll carries none by default)."""
    params = {} if include is None else {"include": include}
    async with asyncio.timeout(HANG_SECONDS):
        while True:
            response = await api.client.get(
                f"/api/prompt-backtests/{task_id}", params=params, headers=api.bearer(token)
            )
            assert response.status_code == 200, response.text
            task = response.json()
            if task["status"] in FINISHED:
                return task
            await asyncio.sleep(0.05)


async def snapshots(api: Api, token: str, task_id: int) -> list[dict[str, Any]]:
    response = await api.client.get(
        f"/api/prompt-backtests/{task_id}/snapshots", headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()
