"""The monitor never fills on a stale price: it skips the trader until prices are fresh."""

from __future__ import annotations

from fastapi import FastAPI

from tests.helpers import Api
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock


async def test_a_stale_price_holds_resting_orders_and_triggers(
    app: FastAPI, api: Api, market: ScriptedMarket, clock: TestClock
) -> None:
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity=0.1, stop_loss_price=45000)
    resting = (
        await trader.create(side="buy", quantity=0.1, order_type="limit", price=49000)
    ).json()
    assert (await trader.execute(resting["id"])).json()["execution_status"] == "open"

    clock.at(1)
    await market.set("BTC", 44000)  # through the limit and the stop...
    market.go_stale()  # ...but the feed stopped
    await tick(app)
    assert len(await trader.get(f"/api/account/{trader.id}/trades")) == 1

    await market.set("BTC", 44000)  # fresh again
    await tick(app)
    trades = await trader.get(f"/api/account/{trader.id}/trades")
    assert [(t["side"], t["price"], t["liquidity"]) for t in trades] == [
        ("sell", 43990, "taker"),  # the stop closes the whole long (0.2)
        ("buy", 49000, "maker"),  # the resting limit fills first, at its price
        ("buy", 50010, "taker"),
    ]
    assert trades[0]["quantity"] == 0.2
