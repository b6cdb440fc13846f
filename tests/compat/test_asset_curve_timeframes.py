"""The asset curve's timeframes: the contract's 5m/1h/1d and the WebSocket page's "7d"
(buckets of a week from Monday 00:00 UTC); anything else is a 400 listing the four."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.settings import Settings
from hyperoru.timeutils import isoformat_z, utcnow
from hyperoru.trading.models import EquitySnapshot
from tests.accounts.helpers import create_trader
from tests.conftest import running
from tests.helpers import Api, assert_error
from tests.realtime.conftest import LiveServer, ask, live, open_socket, ws_settings

__all__ = ["live", "ws_settings"]  # the real server's fixtures

NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.state.trading_clock = lambda: NOW
    application.state.trading_monitor_seconds = None
    async with running(application):
        yield application


async def _snapshots(app: FastAPI, account_id: int, points: dict[datetime, int]) -> None:
    async with app.state.services.sessionmaker() as session:
        for taken_at, equity in points.items():
            session.add(
                EquitySnapshot(
                    account_id=account_id,
                    taken_at=taken_at,
                    equity=Decimal(equity),
                    cash=Decimal(equity),
                    positions_value=Decimal(0),
                )
            )
        await session.commit()


async def test_7d_buckets_are_weeks_from_monday(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    day = timedelta(days=1)
    thursday = datetime(2026, 1, 1, tzinfo=UTC)
    await _snapshots(
        app,
        trader["id"],
        {
            thursday: 10000,  # week of Monday 2025-12-29
            thursday + 3 * day + timedelta(hours=23, minutes=59): 10100,  # Sunday, same week
            thursday + 4 * day: 10200,  # Monday 2026-01-05
            thursday + 10 * day: 10300,  # Sunday 2026-01-11
            thursday + 11 * day + timedelta(hours=1): 10400,  # Monday 2026-01-12
        },
    )
    response = await api.client.get(
        f"/api/account/{trader['id']}/asset-curve",
        params={"timeframe": "7d"},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    assert [(p["timestamp"], p["equity"]) for p in response.json()] == [
        ("2025-12-29T00:00:00Z", 10100),
        ("2026-01-05T00:00:00Z", 10300),
        ("2026-01-12T00:00:00Z", 10400),
    ]
    daily = await api.client.get(
        f"/api/account/{trader['id']}/asset-curve",
        params={"timeframe": "1d"},
        headers=api.bearer(token),
    )
    assert len(daily.json()) == 5  # five different days: the week buckets are not days


async def test_an_unknown_timeframe_lists_the_accepted_ones(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    trader = await create_trader(api, token)
    response = await api.client.get(
        f"/api/account/{trader['id']}/asset-curve",
        params={"timeframe": "30d"},
        headers=api.bearer(token),
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "timeframe"
    for accepted in ("5m", "1h", "1d", "7d"):
        assert f"'{accepted}'" in body["message"]


async def test_the_websocket_get_asset_curve_takes_7d(live: LiveServer) -> None:
    _, token = await live.user()
    trader = await create_trader(live.api, token)
    taken_at = utcnow().replace(second=0, microsecond=0)
    await _snapshots(live.app, trader["id"], {taken_at: 10050})
    monday = (taken_at - timedelta(days=taken_at.weekday())).replace(hour=0, minute=0)
    async with open_socket(live, token) as ws:
        curve = await ask(
            ws,
            {"type": "get_asset_curve", "data": {"account_id": trader["id"], "timeframe": "7d"}},
        )
        assert curve["type"] == "asset_curve", curve
        assert curve["data"]["timeframe"] == "7d"
        assert [(p["timestamp"], p["equity"]) for p in curve["data"]["points"]] == [
            (isoformat_z(monday), 10050)
        ]
        refused = await ask(ws, {"type": "get_asset_curve", "data": {"timeframe": "30d"}})
        assert refused["type"] == "error" and "7d" in refused["data"]["error"], refused
