"""Pushes: only the owner's sockets get a trader's events, prices reach every subscriber,
and a client that stops reading is cut off without holding up the others."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from websockets.asyncio.client import connect

from hyperoru.realtime.events import (
    AssetCurveEvent,
    ModelChatEvent,
    PositionEvent,
    PriceEvent,
    TradeEvent,
)
from hyperoru.realtime.limits import CLOSE_TOO_SLOW, WsLimits
from hyperoru.timeutils import utcnow
from tests.realtime.conftest import LiveServer, ask, close_code, open_socket, receive, run_server

# Every per-trader channel; "prices" is public and ticks on its own, so tests that count
# frames leave it out.
TRADER_CHANNELS = ["trades", "positions", "model_chat", "asset_curve"]


async def _trader(server: LiveServer, token: str, name: str) -> int:
    response = await server.http.post(
        "/api/account/", json={"name": name}, headers=server.api.bearer(token)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_a_traders_events_reach_only_its_owner(live: LiveServer) -> None:
    alice, alice_token = await live.user()
    bob, bob_token = await live.user()
    alice_trader = await _trader(live, alice_token, "alice-bot")
    bob_trader = await _trader(live, bob_token, "bob-bot")
    bus = live.app.state.services.bus
    async with (
        open_socket(live, alice_token) as alice_ws,
        open_socket(live, alice_token, how="header") as alice_second,
        open_socket(live, bob_token) as bob_ws,
    ):
        for ws in (alice_ws, alice_second, bob_ws):
            await ask(ws, {"type": "subscribe", "data": {"channels": TRADER_CHANNELS}})

        alice_events = [
            TradeEvent(user_id=alice["id"], account_id=alice_trader, data={"id": 1, "side": "buy"}),
            PositionEvent(user_id=alice["id"], account_id=alice_trader, data={"symbol": "BTC"}),
            ModelChatEvent(user_id=alice["id"], account_id=alice_trader, data={"reason": "x"}),
            AssetCurveEvent(user_id=alice["id"], account_id=alice_trader, data={"equity": 1.5}),
        ]
        for event in alice_events:
            await bus.publish(event)
        # Bob's own event, published after Alice's: it is the first thing Bob receives,
        # which proves none of Alice's reached him.
        await bus.publish(
            TradeEvent(user_id=bob["id"], account_id=bob_trader, data={"id": 2, "side": "sell"})
        )

        for ws in (alice_ws, alice_second):
            got = [await receive(ws) for _ in alice_events]
            assert [m["type"] for m in got] == [
                "trade_update",
                "position_update",
                "model_chat_update",
                "asset_curve_update",
            ]
            assert [m["channel"] for m in got] == [
                "trades",
                "positions",
                "model_chat",
                "asset_curve",
            ]
            assert {m["account_id"] for m in got} == {alice_trader}
            assert got[0]["data"] == {"id": 1, "side": "buy"}
        first_for_bob = await receive(bob_ws)
        assert first_for_bob == {
            "type": "trade_update",
            "channel": "trades",
            "account_id": bob_trader,
            "data": {"id": 2, "side": "sell"},
        }
        # And Alice never sees Bob's.
        assert (await ask(alice_ws, {"type": "ping"}))["type"] == "pong"


async def test_pushes_follow_the_sockets_channels(live: LiveServer) -> None:
    user, token = await live.user()
    bus = live.app.state.services.bus
    async with open_socket(live, token) as ws:
        await ask(ws, {"type": "subscribe", "data": {"channels": ["positions"]}})
        await bus.publish(TradeEvent(user_id=user["id"], account_id=1, data={"n": 1}))
        await bus.publish(PositionEvent(user_id=user["id"], account_id=1, data={"n": 2}))
        assert (await receive(ws))["data"] == {"n": 2}
        await ask(ws, {"type": "unsubscribe", "data": {"channels": ["positions"]}})
        await bus.publish(PositionEvent(user_id=user["id"], account_id=1, data={"n": 3}))
        assert (await ask(ws, {"type": "ping"}))["type"] == "pong"


async def test_prices_from_the_market_cache_reach_subscribers(live: LiveServer) -> None:
    _, token = await live.user()
    async with open_socket(live, token) as ws:
        await ask(ws, {"type": "subscribe", "data": {"channels": ["prices"]}})
        update = await receive(ws)
    assert update["type"] == "price_update" and update["channel"] == "prices"
    assert update["account_id"] is None
    price = update["data"]
    assert set(price) >= {
        "symbol",
        "price",
        "bid",
        "ask",
        "mark_price",
        "timestamp",
        "source",
        "stale",
    }
    rest = await live.http.get(
        f"/api/crypto/price/{price['symbol']}", headers=live.api.bearer(token)
    )
    assert set(rest.json()) == set(price)


async def test_an_older_price_never_follows_a_newer_one(live: LiveServer) -> None:
    _, token = await live.user()
    bus = live.app.state.services.bus
    later = utcnow() + timedelta(days=3650)
    earlier = later - timedelta(days=1)
    async with open_socket(live, token) as ws:
        await ask(ws, {"type": "subscribe", "data": {"channels": ["prices"]}})
        await bus.publish(PriceEvent(symbol="ZZZ", observed_at=later, data={"n": "new"}))
        await bus.publish(PriceEvent(symbol="ZZZ", observed_at=earlier, data={"n": "old"}))
        await bus.publish(PriceEvent(symbol="ZZZ", observed_at=later, data={"n": "again"}))
        await bus.publish(
            PriceEvent(symbol="ZZZ", observed_at=later + timedelta(seconds=1), data={"n": "next"})
        )
        seen = []
        for _ in range(1000):  # real prices from the market feed arrive in between
            message = await receive(ws)
            if message["data"].get("n"):
                seen.append(message["data"]["n"])
            if len(seen) == 2:
                break
    assert seen == ["new", "next"]


def _starved_socket(port: int) -> socket.socket:
    # A tiny receive buffer, so the server's writes back up quickly.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


@pytest.mark.parametrize("ws_protocol", [None, "websockets-sansio"], ids=["prebuilt", "plain"])
async def test_a_client_that_stops_reading_is_cut_off_and_others_keep_receiving(
    ws_settings, ws_protocol
) -> None:
    limits = WsLimits(
        connect_timeout_seconds=2,
        send_queue_size=8,
        send_timeout_seconds=1.0,
        close_grace_seconds=60,
    )
    async with run_server(ws_settings, limits, ws_protocol=ws_protocol) as server:
        user, token = await server.user()
        bus = server.app.state.services.bus
        hub = server.app.state.services.ws_hub
        slow_url = f"{server.ws_url}?session_token={token}"
        async with (
            open_socket(server, token) as fast,
            connect(
                slow_url, sock=_starved_socket(server.port), max_queue=1, max_size=None
            ) as slow,
        ):
            assert (await receive(slow))["type"] == "connected"
            await ask(slow, {"type": "subscribe", "data": {"channels": ["model_chat"]}})
            await ask(fast, {"type": "subscribe", "data": {"channels": ["model_chat"]}})
            assert hub.count() == 2
            # The slow client now reads nothing. The fast one keeps up, message by message.
            sent = 0
            while hub.count() == 2:
                sent += 1
                await bus.publish(
                    ModelChatEvent(
                        user_id=user["id"], account_id=1, data={"n": sent, "pad": "x" * 32_000}
                    )
                )
                assert (await receive(fast))["data"]["n"] == sent
                assert sent < 5_000, "the slow client was never disconnected"
            for n in range(sent + 1, sent + 21):
                await bus.publish(ModelChatEvent(user_id=user["id"], account_id=1, data={"n": n}))
                assert (await receive(fast))["data"]["n"] == n
            # Once it reads again, the slow client finds the reason after its backlog.
            assert await close_code(slow) == CLOSE_TOO_SLOW
