"""bootstrap, switch_account, get_snapshot, get_asset_curve and place_order over /ws, with
the same ownership rules as the REST routes, on a real server."""

from __future__ import annotations

from typing import Any

from tests.accounts.helpers import create_trader
from tests.realtime.conftest import LiveServer, ask, open_socket, receive


async def _trader(live: LiveServer, token: str, name: str = "ws trader") -> dict[str, Any]:
    return await create_trader(live.api, token, name=name)


async def test_place_order_then_snapshot_and_bootstrap(live: LiveServer) -> None:
    _, token = await live.user()
    trader = await _trader(live, token)
    async with open_socket(live, token) as ws:
        placed = await ask(
            ws,
            {
                "type": "place_order",
                "request_id": "o1",
                "data": {
                    "account_id": trader["id"],
                    "symbol": "BTC",
                    "side": "buy",
                    "order_type": "market",
                    "quantity": 0.01,
                    "leverage": 2,
                },
            },
        )
        assert placed["type"] == "order_placed" and placed["request_id"] == "o1", placed
        assert placed["data"]["execution"]["execution_status"] == "filled"
        assert placed["data"]["order"]["status"] == "filled"

        snapshot = await ask(
            ws, {"type": "get_snapshot", "request_id": "s1", "data": {"account_id": trader["id"]}}
        )
        assert snapshot["type"] == "snapshot" and snapshot["request_id"] == "s1"
        [position] = snapshot["data"]["positions"]
        assert position["symbol"] == "BTC" and position["side"] == "long"
        assert snapshot["data"]["equity"] > 0 and snapshot["data"]["cash"] < 10000

        booted = await ask(ws, {"type": "bootstrap", "data": {}})
        assert booted["type"] == "bootstrap"
        assert [a["id"] for a in booted["data"]["accounts"]] == [trader["id"]]
        assert "api_key" not in booted["data"]["accounts"][0]
        assert booted["data"]["positions"][str(trader["id"])][0]["symbol"] == "BTC"
        assert booted["data"]["active_orders"] == []


async def test_switch_account_sets_the_default_for_later_messages(live: LiveServer) -> None:
    _, token = await live.user()
    first = await _trader(live, token, "first")
    second = await _trader(live, token, "second")
    async with open_socket(live, token) as ws:
        switched = await ask(ws, {"type": "switch_account", "data": {"account_id": second["id"]}})
        assert switched["type"] == "account_switched"
        assert switched["data"]["account_id"] == second["id"]
        assert switched["data"]["account"]["name"] == "second"
        snapshot = await ask(ws, {"type": "get_snapshot", "data": {}})
        assert snapshot["data"]["account_id"] == second["id"]
        curve = await ask(ws, {"type": "get_asset_curve", "data": {"timeframe": "1h"}})
        assert curve["type"] == "asset_curve"
        assert curve["data"]["account_id"] == second["id"] and curve["data"]["timeframe"] == "1h"
        assert isinstance(curve["data"]["points"], list)
        explicit = await ask(ws, {"type": "get_snapshot", "data": {"account_id": first["id"]}})
        assert explicit["data"]["account_id"] == first["id"]


async def test_another_users_trader_is_forbidden_and_the_socket_stays_open(
    live: LiveServer,
) -> None:
    _, owner = await live.user()
    _, intruder = await live.user()
    trader = await _trader(live, owner)
    async with open_socket(live, intruder) as ws:
        for message in (
            {"type": "switch_account", "data": {"account_id": trader["id"]}},
            {"type": "get_snapshot", "data": {"account_id": trader["id"]}},
            {"type": "get_asset_curve", "data": {"account_id": trader["id"], "timeframe": "5m"}},
            {
                "type": "place_order",
                "data": {
                    "account_id": trader["id"],
                    "symbol": "BTC",
                    "side": "buy",
                    "quantity": 0.01,
                },
            },
        ):
            answer = await ask(ws, {**message, "request_id": "x"})
            assert answer["type"] == "error", answer
            assert answer["data"]["code"] == "FORBIDDEN" and answer["request_id"] == "x"
        missing = await ask(ws, {"type": "get_snapshot", "data": {"account_id": 999999}})
        assert missing["data"]["code"] == "ACCOUNT_NOT_FOUND"
        assert (await ask(ws, {"type": "ping", "data": {}}))["type"] == "pong"
    orders = await live.http.get(
        f"/api/orders/account/{trader['id']}", headers={"Authorization": f"Bearer {owner}"}
    )
    assert orders.json() == []


async def test_bad_order_fields_are_validation_errors(live: LiveServer) -> None:
    _, token = await live.user()
    trader = await _trader(live, token)
    async with open_socket(live, token) as ws:
        answer = await ask(
            ws,
            {
                "type": "place_order",
                "data": {"account_id": trader["id"], "symbol": "BTC", "side": "up"},
            },
        )
        assert answer["type"] == "error" and answer["data"]["code"] == "VALIDATION_ERROR"
        await ws.send('{"type": "get_snapshot", "data": {"account_id": "abc"}}')
        assert (await receive(ws))["data"]["code"] == "VALIDATION_ERROR"
