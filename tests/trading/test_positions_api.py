"""Positions in both shapes, the account state, trades paging and the asset curve."""

from __future__ import annotations

from fastapi import FastAPI

from tests.helpers import Api, assert_error
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock


async def test_positions_in_both_shapes_and_the_account_state(
    api: Api, market: ScriptedMarket
) -> None:
    trader = await new_trader(api, initial_capital=10000)
    assert await trader.get(f"/api/account/{trader.id}/positions") == []
    await trader.trade(side="buy", quantity=0.2, leverage=5)  # 50010, fee 4.5009
    await trader.trade(side="sell", quantity=1, symbol="ETH", leverage=4)  # 2990, fee 1.3455
    await market.set("BTC", 51000)

    positions = await trader.get(f"/api/account/{trader.id}/positions")
    assert [p["symbol"] for p in positions] == ["BTC", "ETH"]
    btc, eth = positions
    assert set(btc) == {
        "symbol", "side", "size", "entry_price", "mark_price", "leverage",
        "liquidation_price", "unrealized_pnl", "margin_used", "opened_at", "margin_mode",
        "isolated_margin",
    }  # fmt: skip
    assert (btc["margin_mode"], btc["isolated_margin"]) == ("cross", None)
    assert (btc["side"], btc["size"], btc["entry_price"], btc["mark_price"]) == (
        "long", 0.2, 50010, 51000
    )  # fmt: skip
    assert (btc["unrealized_pnl"], btc["margin_used"], btc["leverage"]) == (198, 2040, 5)
    assert (eth["side"], eth["size"], eth["unrealized_pnl"], eth["margin_used"]) == (
        "short", 1, -10, 750
    )  # fmt: skip
    assert btc["liquidation_price"] < 51000 < eth["liquidation_price"] * 20

    page = await trader.get(f"/api/hyperliquid/accounts/{trader.id}/positions")
    assert page["positions"] == positions
    assert (page["total_count"], page["total_unrealized_pnl"]) == (2, 188)

    state = await trader.get(f"/api/hyperliquid/account/{trader.id}/state")
    cash = 10000 - 4.5009 - 1.3455
    assert (state["id"], state["account_id"], state["environment"]) == (
        trader.id,
        trader.id,
        "paper",
    )
    assert state["balance_total"] == round(cash + 188, 8)
    assert state["margin_used"] == 2790 and state["unrealized_pnl"] == 188
    assert state["balance_available"] == round(cash + 188 - 2790, 8)
    assert state["taken_at"].endswith("Z")


async def test_trades_are_newest_first_and_paged(api: Api) -> None:
    trader = await new_trader(api)
    for _ in range(3):
        await trader.trade(side="buy", quantity=0.01)
    trades = await trader.get(f"/api/account/{trader.id}/trades")
    assert len(trades) == 3 and trades[0]["id"] > trades[1]["id"] > trades[2]["id"]
    assert await trader.get(f"/api/account/{trader.id}/trades", limit=1, offset=2) == trades[2:]


async def test_the_asset_curve_keeps_the_last_point_of_each_bucket(
    api: Api, app: FastAPI, clock: TestClock, market: ScriptedMarket
) -> None:
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity=1, leverage=10)  # 50010, fee 22.5045
    for minute, mark in ((0, 50000), (4, 50100), (5, 50200), (9, 50300), (61, 50400)):
        clock.at(minute)
        await market.set("BTC", mark)
        await tick(app)
    clock.at(62)
    curve = await trader.get(f"/api/account/{trader.id}/asset-curve", timeframe="5m", limit=13)
    cash = 10000 - 22.5045
    assert [(p["timestamp"][11:16], p["equity"]) for p in curve] == [
        ("00:00", round(cash + 90, 8)),
        ("00:05", round(cash + 290, 8)),
        ("01:00", round(cash + 390, 8)),
    ]
    assert curve[-1]["positions_value"] == 50400 and curve[-1]["cash"] == cash
    hourly = await trader.get(f"/api/account/{trader.id}/asset-curve", timeframe="1h")
    assert [p["timestamp"] for p in hourly] == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
    daily = await trader.get(f"/api/account/{trader.id}/asset-curve", timeframe="1d")
    assert len(daily) == 1 and daily[0]["equity"] == round(cash + 390, 8)
    far = await trader.get(f"/api/account/{trader.id}/asset-curve", offset=2_000_000_000)
    assert far == []
    wrong = await api.client.get(
        f"/api/account/{trader.id}/asset-curve", params={"timeframe": "7m"}, headers=trader.headers
    )
    assert_error(wrong, 400, "VALIDATION_ERROR")


async def test_a_paper_trader_answers_the_same_under_both_venues_paths(
    api: Api, market: ScriptedMarket
) -> None:
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity=0.01)
    for kind in ("accounts/{id}/positions", "account/{id}/state"):
        answers = [
            await trader.get(f"/api/{venue}/" + kind.format(id=trader.id))
            for venue in ("hyperliquid", "binance")
        ]
        for answer in answers:
            answer.pop("taken_at", None)
        assert answers[0] == answers[1], kind
    state = await trader.get(f"/api/binance/account/{trader.id}/state")
    assert state["environment"] == "paper"
    page = await trader.get(f"/api/binance/accounts/{trader.id}/positions")
    assert [p["symbol"] for p in page["positions"]] == ["BTC"]
