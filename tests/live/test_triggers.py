"""A live order's take-profit and stop-loss become the venue's own reduce-only trigger
orders, journalled like every order, and their fills reach the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.exchanges.base import OrderIntent
from hyperoru.exchanges.venue import Trigger
from tests.helpers import Api
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import VenueDouble

D = Decimal


@pytest.mark.usefixtures("connected")
async def test_tp_and_sl_rest_at_the_venue_and_a_triggered_one_closes_the_position(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    live = live_client(app)
    intent = OrderIntent(
        symbol="BTC", side="buy", order_type="market", quantity=D("0.01"),
        take_profit_price=D(55000), stop_loss_price=D("48000.123"),
    )  # fmt: skip
    report = await live.place(account_id=trader.id, intent=intent)
    assert report.execution_status == "filled"
    entry, tp, sl = venue.submitted
    assert entry.trigger is None
    assert (tp.trigger, tp.side, tp.quantity, tp.reduce_only) == (
        Trigger("tp", D(55000)), "sell", D("0.01"), True
    )  # fmt: skip
    assert sl.trigger == Trigger("sl", D("48000.1"))  # rounded to the tick
    orders = {o["client_order_id"]: o for o in await trader.get(f"/api/orders/account/{trader.id}")}
    assert orders[f"tp-of-{report.order_id}"]["status"] == "open"
    assert orders[f"sl-of-{report.order_id}"]["stop_loss_price"] == 48000.123
    venue.prices["BTC"] = D(48000)
    venue.trigger(sl.client_order_id)
    await live.sync(trader.id, user_id=trader.user["id"])
    orders = {o["client_order_id"]: o for o in await trader.get(f"/api/orders/account/{trader.id}")}
    assert orders[f"sl-of-{report.order_id}"]["status"] == "filled"
    assert await live.positions(account_id=trader.id) == []
    trades = await trader.get(f"/api/account/{trader.id}/trades")
    assert [(t["side"], t["price"]) for t in trades] == [("sell", 48000.0), ("buy", 50000.0)]
