"""Preview variables read the trader's paper ledger: positions, fills and balance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.exchanges.base import OrderIntent
from hyperoru.trading.domain import DOMAIN as TRADING
from tests.accounts.helpers import create_trader
from tests.helpers import Api


@pytest.fixture
async def trading(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The trading domain, started by hand unless the app already registers it."""
    async with AsyncExitStack() as stack:
        if not hasattr(app.state.services, "trading"):
            app.state.trading_monitor_seconds = None
            assert TRADING.lifespan is not None
            await stack.enter_async_context(TRADING.lifespan(app))
        yield app


async def test_positions_trades_and_balance_come_from_the_ledger(
    trading: FastAPI, api: Api
) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token, max_leverage=5)
    report = await trading.state.services.trading.paper.place(
        account_id=trader["id"],
        intent=OrderIntent(
            symbol="BTC", side="buy", order_type="market", quantity=Decimal("0.01"), leverage=2
        ),
    )
    assert report.execution_status == "filled", report

    response = await api.client.post(
        "/api/prompts/preview",
        json={
            "content": "{open_positions}\n---\n{recent_trades}\n---\n{account_state}",
            "account_id": trader["id"],
            "symbols": ["BTC"],
        },
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    positions, trades, state = response.json()["rendered"].split("\n---\n")
    assert positions.startswith("BTC long size 0.01 at entry "), positions
    assert ", 2x, " in positions
    [fill] = trades.splitlines()
    assert " BTC buy 0.01 at " in fill
    assert "Trades so far: 1" in state
    assert "Available for new positions: " in state
    assert "Margin in use: " in state
