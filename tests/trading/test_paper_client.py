"""The paper client through the venue-neutral interface the decision pipeline and the
WebSocket ``place_order`` use."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI

from hyperoru.exchanges.base import ExchangeClient, OrderIntent
from tests.helpers import Api
from tests.trading.helpers import new_trader
from tests.trading.market import ScriptedMarket

D = Decimal


async def test_place_records_and_executes_in_one_call(
    app: FastAPI, api: Api, market: ScriptedMarket
) -> None:
    client = app.state.services.trading.paper
    assert isinstance(client, ExchangeClient)
    trader = await new_trader(api)
    report = await client.place(
        account_id=trader.id,
        intent=OrderIntent(
            symbol="ETH", side="sell", order_type="market", quantity=D("0.5"), leverage=2,
            client_order_id="pipeline-1",
        ),
    )  # fmt: skip
    assert report.execution_status == "filled" and report.reject_code is None
    assert [(f.price, f.quantity, f.fee) for f in report.fills] == [
        (D(2990), D("0.5"), D("0.672750"))
    ]
    (position,) = await client.positions(account_id=trader.id)
    assert (position.side, position.size, position.leverage) == ("short", D("0.5"), 2)
    await market.set("ETH", 2900)
    balance = await client.balance(account_id=trader.id)
    assert balance.unrealized_pnl == D("45.00000000")
    assert balance.total == D(10000) - D("0.67275") + 45
    assert [f.id for f in await client.fills(account_id=trader.id, limit=10, offset=0)] == [
        report.fills[0].id
    ]
    # The order is the API's order: listed, filled, found by its client id.
    (stored,) = await trader.get(f"/api/orders/account/{trader.id}")
    assert (stored["id"], stored["status"], stored["client_order_id"]) == (
        report.order_id, "filled", "pipeline-1"
    )  # fmt: skip
