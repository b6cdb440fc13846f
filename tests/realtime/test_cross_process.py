"""Two `hyperoru serve` processes sharing PostgreSQL and Redis: the bus carries events
from one to the sockets of the other (an order filled through one process reaches a
socket on the other), and a logout on one closes sockets on the other.

Each process tracks a different symbol, so a BTC price on a socket of the ETH-only
process can only have come from the other process, through Redis.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from tests.e2e.server import RunningServer, scaled_env, serve
from tests.helpers import STRONG_PASSWORD
from tests.realtime.conftest import ask, close_code, receive


def _env(database_url: str, redis_url: str, symbol: str) -> dict[str, str]:
    return scaled_env(
        database_url,
        redis_url,
        MARKET_SYMBOLS=symbol,
        MARKET_REFRESH_SECONDS="0.2",
        RATE_LIMIT_AUTH_PER_MINUTE="1000",
    )


def _ws_url(server: RunningServer) -> str:
    return server.base_url.replace("http://", "ws://") + "/ws"


async def _first_price_of(ws, symbol: str) -> dict:
    # The local process's own prices arrive in between; give up after a generous while.
    async with asyncio.timeout(30):
        while True:
            message = await receive(ws)
            if message["type"] == "price_update" and message["data"]["symbol"] == symbol:
                return message


async def _first_of(ws, kind: str) -> dict:
    async with asyncio.timeout(30):
        while True:
            message = await receive(ws)
            if message["type"] == kind:
                return message


async def _fill_a_market_order(http: httpx.AsyncClient, token: str) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    trader = await http.post("/api/account/", json={"name": "crosser"}, headers=auth)
    assert trader.status_code == 201, trader.text
    order = await http.post(
        "/api/orders/create",
        json={
            "account_id": trader.json()["id"],
            "symbol": "BTC",
            "side": "buy",
            "order_type": "market",
            "quantity": 0.01,
        },
        headers=auth,
    )
    assert order.status_code == 201, order.text
    executed = await http.post(f"/api/orders/execute/{order.json()['id']}", headers=auth)
    assert executed.status_code == 200, executed.text
    assert executed.json()["execution_status"] == "filled", executed.text
    return {"account_id": trader.json()["id"], "order_id": order.json()["id"]}


async def test_events_and_revocations_cross_processes(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    database_url = postgres_url
    # Started one after the other: each runs the migrations at start-up.
    with (
        serve(tmp_path / "a", _env(database_url, redis_url, "BTC")) as btc_only,
        serve(tmp_path / "b", _env(database_url, redis_url, "ETH")) as eth_only,
    ):
        async with httpx.AsyncClient(base_url=btc_only.base_url) as http_a:
            register = await http_a.post(
                "/api/users/register",
                json={"username": "crossing", "password": STRONG_PASSWORD},
            )
            assert register.status_code == 201, register.text
            login = await http_a.post(
                "/api/users/login",
                json={"username": "crossing", "password": STRONG_PASSWORD},
            )
            token = login.json()["session_token"]

            async with (
                connect(f"{_ws_url(eth_only)}?session_token={token}") as on_eth,
                connect(f"{_ws_url(btc_only)}?session_token={token}") as on_btc,
            ):
                for ws in (on_eth, on_btc):
                    assert (await receive(ws))["type"] == "connected"
                await ask(on_btc, {"type": "subscribe", "data": {"channels": ["prices"]}})
                await ask(on_eth, {"type": "subscribe", "data": {"channels": ["prices", "trades"]}})
                from_btc_process = await _first_price_of(on_eth, "BTC")
                from_eth_process = await _first_price_of(on_btc, "ETH")
                assert from_btc_process["channel"] == "prices"
                assert from_eth_process["data"]["source"] == "sim"

                fill = await _fill_a_market_order(http_a, token)
                trade = await _first_of(on_eth, "trade_update")
                assert trade["account_id"] == fill["account_id"]
                assert trade["data"]["order_id"] == fill["order_id"]

                logout = await http_a.post(
                    "/api/users/logout", headers={"Authorization": f"Bearer {token}"}
                )
                assert logout.status_code == 204
                codes = await asyncio.gather(close_code(on_eth), close_code(on_btc))
                assert codes == [CLOSE_UNAUTHENTICATED, CLOSE_UNAUTHENTICATED]
