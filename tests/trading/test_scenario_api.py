"""Issue 5's scripted scenario through the HTTP API and the monitor, on both databases:
the same hand-computed ledger as tests/trading/engine/test_scenario.py (read its table).

Times are minutes after 2026-01-01 00:00 UTC; the scripted market's books sit 10 dollars
either side of the mark, so market buys fill at mark + 10 and sells at mark - 10.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI

from tests.helpers import Api
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

D = Decimal


def _d(value: float) -> Decimal:
    return D(str(value))


async def test_the_scripted_scenario_produces_the_hand_computed_ledger(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket
) -> None:
    trader = await new_trader(api, initial_capital=10000, max_leverage=10)
    overview = f"/api/account/{trader.id}/overview"

    # Open a 5x long, add to it, partly close.
    clock.at(10)
    opened = await trader.trade(side="buy", quantity=0.2, leverage=5)
    assert opened["execution_status"] == "filled"
    assert [(f["price"], f["quantity"], f["fee"]) for f in opened["fills"]] == [
        (50010, 0.2, 4.5009)
    ]
    clock.at(20)
    await market.set("BTC", 51000)
    await trader.trade(side="buy", quantity=0.2, leverage=5)
    (position,) = await trader.get(f"/api/account/{trader.id}/positions")
    assert (position["side"], position["size"], position["entry_price"]) == ("long", 0.4, 50510)
    assert position["leverage"] == 5

    clock.at(30)
    await market.set("BTC", 52000)
    trimmed = await trader.trade(side="sell", quantity=0.1)
    assert trimmed["fills"][0]["realized_pnl"] == 148
    assert (await trader.get(overview))["account"]["current_cash"] == 10136.56865

    # Flip short with a stop-loss and a take-profit.
    clock.at(40)
    flipped = await trader.trade(
        side="sell", quantity=0.5, leverage=10, stop_loss_price=53000, take_profit_price=48000
    )
    assert flipped["fills"][0]["realized_pnl"] == 444
    (position,) = await trader.get(f"/api/account/{trader.id}/positions")
    assert (position["side"], position["size"], position["entry_price"]) == ("short", 0.2, 51990)

    # The hour: the short receives funding.
    clock.at(60)
    await market.set("BTC", 52000, funding="0.0000125")
    await tick(app)
    assert (await trader.get(overview))["account"]["current_cash"] == 10569.0009

    # The stop-loss fires.
    clock.at(90)
    await market.set("BTC", 53000)
    await tick(app)
    assert await trader.get(f"/api/account/{trader.id}/positions") == []
    assert (await trader.get(overview))["account"]["current_cash"] == 10360.23

    # A 10x long, then the crash liquidates it.
    clock.at(100)
    await market.set("BTC", 50000)
    await trader.trade(side="buy", quantity=2, leverage=10)
    clock.at(110)
    await market.set("BTC", 45000)
    await tick(app)

    body = await trader.get(overview)
    assert body["account"]["current_cash"] == 234.73
    assert body["equity"] == body["total_assets"] == 234.73
    assert body["positions_value"] == 0 and body["total_trades"] == 7

    trades = list(reversed(await trader.get(f"/api/account/{trader.id}/trades")))
    assert [(t["side"], t["price"], t["quantity"]) for t in trades] == [
        ("buy", 50010, 0.2),
        ("buy", 51010, 0.2),
        ("sell", 51990, 0.1),
        ("sell", 51990, 0.5),
        ("buy", 53010, 0.2),
        ("buy", 50010, 2),
        ("sell", 44990, 2),
    ]
    assert [t["is_liquidation"] for t in trades] == [False] * 6 + [True]
    assert {t["liquidity"] for t in trades} == {"taker"}
    assert sum(_d(t["realized_pnl"]) for t in trades) == D(-9652)
    assert sum(_d(t["fee"]) for t in trades) == D("113.40")
    # The stop's fill belongs to the order that placed it.
    assert trades[4]["order_id"] == flipped["order_id"]
    assert trades[6]["order_id"] is None

    orders = await trader.get(f"/api/orders/account/{trader.id}")
    assert [o["status"] for o in orders] == ["filled"] * 5

    state = await trader.get(f"/api/hyperliquid/account/{trader.id}/state")
    assert state["balance_total"] == state["balance_available"] == 234.73
    assert state["margin_used"] == state["unrealized_pnl"] == 0
