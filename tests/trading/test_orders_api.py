"""The order endpoints of contract §8: creation, idempotency, execution, rejects, resting
limits, cancellation, process-all, the three lists, and their errors."""

from __future__ import annotations

from fastapi import FastAPI

from hyperoru.realtime.events import PositionEvent, TradeEvent
from tests.helpers import Api, assert_error
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

ORDER_FIELDS = {
    "id", "order_id", "account_id", "user_id", "client_order_id", "name", "symbol", "side",
    "order_type", "quantity", "price", "leverage", "margin_mode", "reduce_only", "time_in_force",
    "take_profit_price", "stop_loss_price", "status", "filled_quantity", "average_price",
    "reject_code", "status_reason", "created_at", "updated_at",
}  # fmt: skip


async def test_create_answers_a_pending_order(api: Api) -> None:
    trader = await new_trader(api, default_leverage=3)
    response = await trader.create(
        side="BUY", quantity=0.01, name="manual", symbol="btc", client_order_id="c-1"
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert set(order) == ORDER_FIELDS
    assert order["id"] == order["order_id"]
    assert (order["status"], order["symbol"], order["side"]) == ("pending", "BTC", "buy")
    assert (order["leverage"], order["time_in_force"], order["filled_quantity"]) == (3, "gtc", 0)
    assert order["user_id"] == trader.user["id"] and order["created_at"].endswith("Z")
    pending = await trader.get("/api/orders/pending")
    assert [o["id"] for o in pending] == [order["id"]]


async def test_create_checks_symbol_leverage_and_shape(api: Api) -> None:
    trader = await new_trader(api, max_leverage=10)
    assert_error(await trader.create(side="buy", quantity=1, symbol="NOPE"), 422, "UNKNOWN_SYMBOL")
    assert_error(await trader.create(side="buy", quantity=1, leverage=11), 422, "LEVERAGE_TOO_HIGH")
    limit_without_price = await trader.create(side="buy", quantity=1, order_type="limit")
    assert_error(limit_without_price, 400, "VALIDATION_ERROR")
    assert_error(await trader.create(side="buy", quantity=0), 400, "VALIDATION_ERROR")
    assert_error(await trader.create(side="hold", quantity=1), 400, "VALIDATION_ERROR")
    # ETH allows 25x but the trader only 10x; reduce-only orders open nothing, so any is fine.
    assert_error(
        await trader.create(side="buy", quantity=1, symbol="ETH", leverage=20),
        422,
        "LEVERAGE_TOO_HIGH",
    )
    assert (
        await trader.create(side="sell", quantity=1, leverage=50, reduce_only=True)
    ).status_code == 201


async def test_create_for_someone_elses_or_a_missing_trader(api: Api) -> None:
    owner = await new_trader(api)
    intruder = await new_trader(api)
    body = {"account_id": owner.id, "symbol": "BTC", "side": "buy", "quantity": 1}
    response = await api.client.post("/api/orders/create", json=body, headers=intruder.headers)
    assert_error(response, 403, "FORBIDDEN")
    body["account_id"] = 2_000_000_000
    response = await api.client.post("/api/orders/create", json=body, headers=owner.headers)
    assert_error(response, 404, "ACCOUNT_NOT_FOUND")


async def test_client_order_id_is_idempotent(api: Api) -> None:
    trader = await new_trader(api)
    first = await trader.create(side="buy", quantity=0.5, client_order_id="abc")
    again = await trader.create(side="buy", quantity="0.50", client_order_id="abc", name="x")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = await trader.create(side="buy", quantity=0.6, client_order_id="abc")
    body = assert_error(other, 409, "IDEMPOTENCY_CONFLICT")
    assert body["details"]["order_id"] == first.json()["id"]
    # The id is per trader: another trader may use it too.
    elsewhere = await new_trader(api)
    assert (
        await elsewhere.create(side="buy", quantity=0.5, client_order_id="abc")
    ).status_code == 201


async def test_execute_fills_and_only_once(api: Api, app: FastAPI) -> None:
    events: list[object] = []
    app.state.services.bus.subscribe(events.append)
    trader = await new_trader(api)
    order = (await trader.create(side="buy", quantity=0.1, leverage=2)).json()
    response = await trader.execute(order["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["order_id"], body["execution_status"]) == (
        "ok", order["id"], "filled"
    )  # fmt: skip
    (fill,) = body["fills"]
    assert set(fill) == {
        "id", "order_id", "symbol", "side", "price", "quantity", "fee", "realized_pnl",
        "liquidity", "is_liquidation", "time",
    }  # fmt: skip
    assert (fill["price"], fill["quantity"], fill["fee"], fill["liquidity"]) == (
        50010, 0.1, 2.25045, "taker"
    )  # fmt: skip
    assert_error(await trader.execute(order["id"]), 409, "ORDER_NOT_PENDING")
    stored = (await trader.get(f"/api/orders/account/{trader.id}"))[0]
    assert (stored["status"], stored["filled_quantity"], stored["average_price"]) == (
        "filled", 0.1, 50010
    )  # fmt: skip
    trades = [e for e in events if isinstance(e, TradeEvent)]
    assert [(e.account_id, e.data["price"]) for e in trades] == [(trader.id, 50010)]
    assert any(isinstance(e, PositionEvent) and e.data["size"] == 0.1 for e in events)


async def test_execute_and_cancel_check_ownership(api: Api) -> None:
    owner = await new_trader(api)
    intruder = await new_trader(api)
    order = (await owner.create(side="buy", quantity=0.1)).json()
    for action in ("execute", "cancel"):
        stolen = await api.client.post(
            f"/api/orders/{action}/{order['id']}", headers=intruder.headers
        )
        assert_error(stolen, 403, "FORBIDDEN")
        missing = await api.client.post(f"/api/orders/{action}/2000000000", headers=owner.headers)
        assert_error(missing, 404, "ORDER_NOT_FOUND")
    # A deleted trader's orders are gone too.
    await api.client.delete(f"/api/account/{owner.id}", headers=owner.headers)
    assert_error(await owner.execute(order["id"]), 404, "ORDER_NOT_FOUND")


async def test_business_rule_rejects_answer_with_a_reject_code(api: Api) -> None:
    trader = await new_trader(api, initial_capital=1000)
    cases = {
        "MIN_NOTIONAL": {"side": "buy", "quantity": 0.0001},
        "INVALID_SIZE": {"side": "buy", "quantity": 0.000001},
        "INVALID_TICK": {"side": "buy", "quantity": 0.01, "order_type": "limit", "price": 50000.5},
        "INSUFFICIENT_MARGIN": {"side": "buy", "quantity": 1, "leverage": 10},
        "REDUCE_ONLY_REJECTED": {"side": "sell", "quantity": 0.01, "reduce_only": True},
        "POST_ONLY_WOULD_CROSS": {
            "side": "buy", "quantity": 0.01, "order_type": "limit", "price": 50020,
            "time_in_force": "alo",
        },
    }  # fmt: skip
    for code, order in cases.items():
        created = (await trader.create(**order)).json()
        response = await trader.execute(created["id"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["execution_status"], body["reject_code"], body["fills"]) == (
            "rejected", code, []
        ), code  # fmt: skip
        stored = [
            o
            for o in await trader.get(f"/api/orders/account/{trader.id}")
            if o["id"] == created["id"]
        ]
        assert (stored[0]["status"], stored[0]["reject_code"]) == ("rejected", code)
    overview = await trader.get(f"/api/account/{trader.id}/overview")
    assert overview["account"]["current_cash"] == 1000 and overview["total_trades"] == 0


async def test_a_stale_price_refuses_to_execute(api: Api, market: ScriptedMarket) -> None:
    trader = await new_trader(api)
    order = (await trader.create(side="buy", quantity=0.1)).json()
    market.go_stale()
    assert_error(await trader.execute(order["id"]), 503, "MARKET_DATA_UNAVAILABLE")
    assert (await trader.get("/api/orders/pending"))[0]["id"] == order["id"]
    await market.set("BTC", 50000)
    assert (await trader.execute(order["id"])).json()["execution_status"] == "filled"


async def test_a_resting_limit_reserves_margin_and_fills_as_maker(
    api: Api, app: FastAPI, market: ScriptedMarket, clock: TestClock
) -> None:
    trader = await new_trader(api)
    order = (
        await trader.create(side="buy", quantity=0.1, order_type="limit", price=49000, leverage=5)
    ).json()
    body = (await trader.execute(order["id"])).json()
    assert (body["execution_status"], body["fills"]) == ("open", [])
    account = (await trader.get(f"/api/account/{trader.id}/overview"))["account"]
    assert account["frozen_cash"] == 980  # 0.1 * 49000 / 5
    clock.at(1)
    await market.set("BTC", 48900)  # best ask 48910 is through the limit
    await tick(app)
    (fill,) = await trader.get(f"/api/account/{trader.id}/trades")
    assert (fill["price"], fill["liquidity"], fill["fee"]) == (49000, "maker", 0.735)
    stored = (await trader.get(f"/api/orders/account/{trader.id}"))[0]
    assert stored["status"] == "filled"
    account = (await trader.get(f"/api/account/{trader.id}/overview"))["account"]
    assert (account["frozen_cash"], account["current_cash"]) == (0, 10000 - 0.735)
    assert_error(
        await api.client.post(f"/api/orders/cancel/{order['id']}", headers=trader.headers),
        409,
        "ORDER_NOT_PENDING",
    )


async def test_cancel_pending_and_resting_orders(api: Api) -> None:
    trader = await new_trader(api)
    pending = (await trader.create(side="buy", quantity=0.1)).json()
    resting = (
        await trader.create(side="sell", quantity=0.1, order_type="limit", price=60000)
    ).json()
    assert (await trader.execute(resting["id"])).json()["execution_status"] == "open"
    for order in (pending, resting):
        response = await api.client.post(
            f"/api/orders/cancel/{order['id']}", headers=trader.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        again = await api.client.post(f"/api/orders/cancel/{order['id']}", headers=trader.headers)
        assert_error(again, 409, "ORDER_NOT_PENDING")
    account = (await trader.get(f"/api/account/{trader.id}/overview"))["account"]
    assert account["frozen_cash"] == 0
    assert await trader.get("/api/orders/pending") == []


async def test_process_all_executes_the_callers_pending_orders(api: Api) -> None:
    trader = await new_trader(api)
    second = await new_trader(api)  # another user: untouched
    await trader.create(side="buy", quantity=0.1)
    await trader.create(side="buy", quantity=0.0001)  # MIN_NOTIONAL: fails
    await second.create(side="buy", quantity=0.1)
    response = await api.client.post("/api/orders/process-all", headers=trader.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"processed": 2, "succeeded": 1, "failed": 1}
    assert await trader.get("/api/orders/pending") == []
    assert len(await second.get("/api/orders/pending")) == 1


async def test_order_lists_are_the_callers_own(api: Api) -> None:
    trader = await new_trader(api)
    other = await new_trader(api)
    mine = [(await trader.create(side="buy", quantity=0.1)).json()["id"] for _ in range(3)]
    await other.create(side="buy", quantity=0.1)
    listed = await trader.get(f"/api/orders/user/{trader.user['id']}")
    assert [o["id"] for o in listed] == mine[::-1]
    page = await trader.get(f"/api/orders/user/{trader.user['id']}", limit=1, offset=1)
    assert [o["id"] for o in page] == [mine[1]]
    assert [o["id"] for o in await trader.get("/api/orders/pending", page=2, per_page=2)] == [
        mine[0]
    ]
    forbidden = await api.client.get(f"/api/orders/user/{other.user['id']}", headers=trader.headers)
    assert_error(forbidden, 403, "FORBIDDEN")
