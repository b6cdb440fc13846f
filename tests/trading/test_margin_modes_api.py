"""Margin modes and trigger fills through the API: a trader's default ``margin_mode``, an
order's own, what positions and the account show for an isolated position, and a stop
filled by Hyperliquid's trigger rule after a gap.

The scripted market fills buys at mark + 10 and sells at mark - 10; BTC is 40x max, so
maintenance is 1/80 of notional; Hyperliquid's taker fee is 0.045%.
"""

from __future__ import annotations

from fastapi import FastAPI

from tests.helpers import Api, assert_error
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock


async def test_an_isolated_order_opens_an_isolated_position(api: Api) -> None:
    trader = await new_trader(api, initial_capital=10000)
    assert trader.account["margin_mode"] == "cross"
    created = await trader.create(side="buy", quantity=0.2, leverage=5, margin_mode="ISOLATED")
    assert created.status_code == 201, created.text
    assert created.json()["margin_mode"] == "isolated"
    executed = (await trader.execute(created.json()["id"])).json()
    assert executed["execution_status"] == "filled"

    (btc,) = await trader.get(f"/api/account/{trader.id}/positions")
    # Margin 0.2 * 50010 / 5 = 2000.4; at the mark 50000 the position has lost 2, so it
    # ties up 1998.4. Its liquidation price: (10002 - 2000.4) / (0.2 - 0.2 / 80).
    assert (btc["margin_mode"], btc["isolated_margin"], btc["margin_used"]) == (
        "isolated",
        2000.4,
        1998.4,
    )
    assert btc["liquidation_price"] == 40514.430379746835
    page = await trader.get(f"/api/hyperliquid/accounts/{trader.id}/positions")
    assert page["positions"] == [btc]

    state = await trader.get(f"/api/hyperliquid/account/{trader.id}/state")
    # The realised balance keeps the isolated margin: 10000 - 4.5009 (fee); equity is
    # 2 lower; only cash outside the position is available: 10000 - 2000.4 - 4.5009.
    assert state["balance_total"] == 9993.4991
    assert state["margin_used"] == 1998.4
    assert state["balance_available"] == 7995.0991
    account = (await trader.get(f"/api/account/{trader.id}/overview"))["account"]
    assert account["current_cash"] == 9995.4991


async def test_the_traders_default_applies_unless_the_order_names_one(api: Api) -> None:
    trader = await new_trader(api)
    path = f"/api/account/{trader.id}"
    updated = await api.client.put(path, json={"margin_mode": "isolated"}, headers=trader.headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["margin_mode"] == "isolated"
    by_default = (await trader.create(side="buy", quantity=0.01)).json()
    named = (await trader.create(side="buy", quantity=0.01, margin_mode="cross")).json()
    assert (by_default["margin_mode"], named["margin_mode"]) == ("isolated", "cross")
    # The same client id with another margin mode is another order.
    first = await trader.create(side="buy", quantity=0.01, client_order_id="m-1")
    again = await trader.create(
        side="buy", quantity=0.01, client_order_id="m-1", margin_mode="cross"
    )
    assert first.status_code == 201
    assert_error(again, 409, "IDEMPOTENCY_CONFLICT")
    assert_error(
        await trader.create(side="buy", quantity=0.01, margin_mode="portfolio"),
        400,
        "VALIDATION_ERROR",
    )
    refused = await api.client.put(path, json={"margin_mode": "hedged"}, headers=trader.headers)
    assert_error(refused, 400, "VALIDATION_ERROR")


async def test_a_stop_gapped_through_fills_within_the_venue_cap(
    api: Api, app: FastAPI, market: ScriptedMarket, clock: TestClock
) -> None:
    trader = await new_trader(api, initial_capital=10000)
    await trader.trade(side="buy", quantity=0.2, leverage=5, stop_loss_price=49000)
    clock.at(1)
    # The next price seen is 46000, 3000 through the stop: a Hyperliquid market stop may
    # fill down to 49000 * 0.9 = 44100, so it takes the bid at 45990 (taker).
    await market.set("BTC", 46000)
    await tick(app)
    trades = await trader.get(f"/api/account/{trader.id}/trades")
    stop = trades[0]
    assert (stop["side"], stop["price"], stop["liquidity"]) == ("sell", 45990, "taker")
    assert stop["realized_pnl"] == -804  # 0.2 * (45990 - 50010)
    assert stop["fee"] == 4.1391  # 9198 * 0.00045
    assert await trader.get(f"/api/account/{trader.id}/positions") == []
