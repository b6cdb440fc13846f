"""A program's factor correlation (program analytics, api map §3.10): each factor, the
built-ins and the caller's custom ones, at the entries of the trades the program's runs
opened, against their returns. Trades the user made by hand do not count, another user's
never do, and the numbers agree with scipy on the program's trades alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.factors.catalogue import BY_NAME
from hyperoru.settings import Settings
from tests.analytics.test_by_factor import CandleMarket, _close, _expected
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.programs.programs import strategy
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

FLIP = strategy(
    """
if "BTC" in data.get_positions():
    return Decision("close", "BTC", reasoning="take it off")
return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="put it on")
"""
)
# (hour, BTC mark): the program flips at each, so every two hours close a round trip.
PATH = ((0, 50000), (1, 50600), (2, 50600), (4, 50100), (5, 50100), (7, 51300), (8, 51300),
        (10, 51000), (11, 51000), (13, 51900))  # fmt: skip


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(factor_engine="enabled", factor_refresh_minutes=0)


@pytest.fixture
def market(clock: TestClock) -> ScriptedMarket:
    return CandleMarket(clock)


async def _program_trader(api: Api) -> tuple[Trader, int]:
    trader = await new_trader(api, account_type="program", max_leverage=3)
    created = await api.client.post(
        "/api/programs/", json={"name": "flip", "code": FLIP}, headers=trader.headers
    )
    assert created.status_code == 201, created.text
    response = await api.client.put(
        f"/api/account/{trader.id}/strategy",
        json={"symbols": ["BTC"], "program_id": created.json()["id"]},
        headers=trader.headers,
    )
    assert response.status_code == 200, response.text
    return trader, int(created.json()["id"])


async def _correlation(trader: Trader, program_id: int) -> dict[str, Any]:
    response = await trader.api.client.get(
        f"/api/analytics/programs/{program_id}/factor-correlation",
        params={"days": 1},
        headers=trader.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_programs_factor_correlation_counts_its_own_trades_only(
    app: FastAPI, api: Api, clock: TestClock, market: CandleMarket
) -> None:
    trader, program_id = await _program_trader(api)
    made = await api.client.post(
        "/api/factors/custom",
        json={"name": "my_roc", "expression": "roc(close, 5)"},
        headers=trader.headers,
    )
    assert made.status_code == 201, made.text
    for hour, mark in PATH:
        clock.at(hour * 60 + 30)
        await market.set("BTC", mark)
        await tick(app)
        cycle = await api.client.post(f"/api/account/{trader.id}/trigger", headers=trader.headers)
        assert cycle.status_code == 200 and cycle.json()["executed"], cycle.text
    # A round trip by hand on ETH: in by-factor, not in the program's correlation.
    clock.at(15 * 60 + 30)
    await market.set("ETH", 3000)
    await tick(app)
    await trader.trade(symbol="ETH", side="buy", quantity="0.1")
    clock.at(15 * 60 + 50)
    await market.set("ETH", 3100)
    await tick(app)
    await trader.trade(symbol="ETH", side="sell", quantity="0.1", reduce_only=True)
    clock.at(20 * 60)
    await tick(app)

    trades = await trader.get("/api/analytics/trades", days=1)
    mine = [t for t in trades if t["program_id"] == program_id]
    assert len(mine) == len(PATH) // 2 and len(trades) == len(mine) + 1
    body = await _correlation(trader, program_id)
    assert body["program_id"] == program_id and body["trades"] == len(mine)
    assert body["interval"] == "1h" and body["until"].endswith("Z")
    rows = {row["factor_name"]: row for row in body["factors"]}
    assert len(rows) == len(BY_NAME) + 1 and rows["my_roc"]["category"] == "custom"
    expected = _expected(market, mine)
    for name, want in expected.items():
        row = rows[name]
        assert row["trades"] == want["trades"], row
        assert _close(row["rank_ic"], want["rank_ic"]) and _close(row["ic"], want["ic"]), row
        assert row["aligned_trades"] == want["aligned_trades"], row
    assert sum(r["rank_ic"] is not None for r in rows.values()) >= 50
    # The custom factor is roc_5's arithmetic: the same numbers.
    same = ("trades", "rank_ic", "ic", "aligned_trades", "opposed_trades", "aligned_pnl")
    assert {k: rows["my_roc"][k] for k in same} == {k: rows["roc_5"][k] for k in same}
    # by-factor counts the hand-made trade too (and lists the custom factor as well).
    every = await trader.get("/api/analytics/by-factor", days=1)
    assert max(r["trades"] for r in every) == len(mine) + 1
    assert {r["factor_name"] for r in every} == set(rows)

    # Another user naming the program finds none of its trades, nor the custom factor.
    stranger = await new_trader(api, name="Stranger")
    theirs = await _correlation(stranger, program_id)
    assert theirs["trades"] == 0 and len(theirs["factors"]) == len(BY_NAME)
    assert all(r["trades"] == 0 and r["rank_ic"] is None for r in theirs["factors"])


async def test_the_correlation_is_refused_while_the_engine_is_off(
    make_settings: Callable[..., Settings],
) -> None:
    off = create_app(make_settings())
    async with running(off), asgi_client(off) as client:
        api = Api(client)
        _, token = await api.user()
        response = await client.get(
            "/api/analytics/programs/1/factor-correlation", headers=api.bearer(token)
        )
        assert_error(response, 403, "FACTOR_ENGINE_DISABLED")
