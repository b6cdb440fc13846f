"""The documented WebSocket ``switch_user``: a socket moves to another user only with a
session token of that user; then it hears that user's traders and never the old user's
again, and a token of user A never opens user B's channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hyperoru.realtime.events import TradeEvent
from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from hyperoru.realtime.session_watch import close_dead_sessions
from tests.realtime.conftest import LiveServer, ask, close_code, open_socket, receive


async def _trader(server: LiveServer, token: str, name: str) -> int:
    response = await server.http.post(
        "/api/account/", json={"name": name}, headers=server.api.bearer(token)
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _trade(user: dict[str, Any], account_id: int, trade_id: int) -> TradeEvent:
    return TradeEvent(user_id=user["id"], account_id=account_id, data={"id": trade_id})


def _error(frame: dict[str, Any], code: str) -> dict[str, Any]:
    assert frame["type"] == "error", frame
    assert frame["data"]["code"] == code, frame
    assert frame["data"]["error"] == frame["data"]["message"]
    return frame["data"]


async def test_switch_with_the_other_users_token_moves_the_socket(live: LiveServer) -> None:
    alice, alice_token = await live.user()
    bob, bob_token = await live.user()
    alice_trader = await _trader(live, alice_token, "alice-bot")
    bob_trader = await _trader(live, bob_token, "bob-bot")
    bus = live.app.state.services.bus
    async with open_socket(live, alice_token) as ws:
        await ask(ws, {"type": "subscribe", "data": {"channels": ["trades"]}})
        await ask(ws, {"type": "switch_account", "data": {"account_id": alice_trader}})
        await bus.publish(_trade(alice, alice_trader, 1))
        assert (await receive(ws))["data"] == {"id": 1}

        switched = await ask(
            ws,
            {
                "type": "switch_user",
                "request_id": "s1",
                "data": {"user_id": bob["id"], "session_token": bob_token},
            },
        )
        assert switched["type"] == "user_switched" and switched["request_id"] == "s1"
        assert switched["data"]["user"]["id"] == bob["id"]
        assert [a["id"] for a in switched["data"]["accounts"]] == [bob_trader]
        assert switched["data"]["channels"] == ["trades"]

        # Alice's trade first, Bob's second: the first frame the socket gets is Bob's.
        await bus.publish(_trade(alice, alice_trader, 2))
        await bus.publish(_trade(bob, bob_trader, 3))
        pushed = await receive(ws)
        assert pushed["account_id"] == bob_trader and pushed["data"] == {"id": 3}
        # Requests now act for Bob: Alice's trader is another user's, and the trader
        # chosen before the switch (Alice's) is no longer the default.
        _error(
            await ask(ws, {"type": "get_snapshot", "data": {"account_id": alice_trader}}),
            "FORBIDDEN",
        )
        snapshot = await ask(ws, {"type": "get_snapshot"})
        assert snapshot["type"] == "snapshot" and snapshot["data"]["account_id"] == bob_trader

    # The socket now lives on Bob's session: revoking it closes the socket.
    async with open_socket(live, alice_token) as ws:
        await ask(ws, {"type": "switch_user", "data": {"session_token": bob_token}})
        logout = await live.http.post("/api/users/logout", headers=live.api.bearer(bob_token))
        assert logout.status_code == 204
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED


async def test_a_token_never_reaches_another_users_channels(live: LiveServer) -> None:
    alice, alice_token = await live.user()
    bob, bob_token = await live.user()
    alice_trader = await _trader(live, alice_token, "alice-bot")
    bob_trader = await _trader(live, bob_token, "bob-bot")
    bus = live.app.state.services.bus
    async with open_socket(live, alice_token) as ws:
        await ask(ws, {"type": "subscribe", "data": {"channels": ["trades"]}})
        refusals = [
            # The documented body: a user id alone proves nothing.
            ({"user_id": bob["id"]}, "FORBIDDEN"),
            # Alice's own token does not make her Bob.
            ({"user_id": bob["id"], "session_token": alice_token}, "FORBIDDEN"),
            # Bob's token with another id than Bob's.
            ({"user_id": alice["id"] + 1000, "session_token": bob_token}, "FORBIDDEN"),
            ({"user_id": bob["id"], "session_token": "hyo_" + "x" * 43}, "INVALID_TOKEN"),
            ({"user_id": "bob"}, "VALIDATION_ERROR"),
            ({}, "VALIDATION_ERROR"),
        ]
        for data, code in refusals:
            frame = await ask(ws, {"type": "switch_user", "request_id": 9, "data": data})
            _error(frame, code)
            assert frame["request_id"] == 9
        # Still Alice's socket, open, hearing Alice only.
        await bus.publish(_trade(bob, bob_trader, 1))
        await bus.publish(_trade(alice, alice_trader, 2))
        assert (await receive(ws))["data"] == {"id": 2}
        same = await ask(ws, {"type": "switch_user", "data": {"user_id": alice["id"]}})
        assert same["type"] == "user_switched" and same["data"]["user"]["id"] == alice["id"]

        # Alice's token, once revoked, cannot be used to switch back either.
        await ask(ws, {"type": "switch_user", "data": {"session_token": bob_token}})
        logout = await live.http.post("/api/users/logout", headers=live.api.bearer(alice_token))
        assert logout.status_code == 204
        _error(
            await ask(ws, {"type": "switch_user", "data": {"session_token": alice_token}}),
            "INVALID_TOKEN",
        )
        pong = await ask(ws, {"type": "ping"})
        assert pong["type"] == "pong"


async def test_a_session_check_racing_a_switch_keeps_the_socket(live: LiveServer) -> None:
    """The periodic session check reads sessions, then closes the sockets of dead ones; a
    socket that switched user in between is judged on the session it was read with."""
    _, alice_token = await live.user()
    bob, bob_token = await live.user()
    services = live.app.state.services
    async with open_socket(live, alice_token) as ws:

        class SwitchDuringTheQuery:
            """A session whose query lets the socket switch user before it runs."""

            def __init__(self, db: Any) -> None:
                self._db = db

            async def execute(self, *args: Any, **kwargs: Any) -> Any:
                switched = await ask(
                    ws, {"type": "switch_user", "data": {"session_token": bob_token}}
                )
                assert switched["data"]["user"]["id"] == bob["id"]
                return await self._db.execute(*args, **kwargs)

        @asynccontextmanager
        async def switch_during_the_check() -> AsyncIterator[Any]:
            async with services.sessionmaker() as db:
                yield SwitchDuringTheQuery(db)

        closed = await close_dead_sessions(
            services.ws_hub, switch_during_the_check, services.settings
        )
        assert closed == 0
        assert (await ask(ws, {"type": "ping"}))["type"] == "pong"
