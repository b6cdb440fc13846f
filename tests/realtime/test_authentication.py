"""The three ways in (query, header, first message), 4401 for everything else, and
sockets of ended sessions closed."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect

from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from tests.realtime.conftest import (
    FAST_LIMITS,
    LiveServer,
    ask,
    close_code,
    open_socket,
    receive,
    run_server,
    send,
)


@pytest.mark.parametrize("how", ["query", "header", "connect"])
async def test_each_token_transport_authenticates(live: LiveServer, how: str) -> None:
    _, token = await live.user()
    async with open_socket(live, token, how=how) as ws:
        pong = await ask(ws, {"type": "ping", "request_id": "p1"})
        assert pong["type"] == "pong" and pong["request_id"] == "p1"


async def test_connected_names_the_user_and_their_traders(live: LiveServer) -> None:
    user, token = await live.user()
    created = await live.http.post(
        "/api/account/", json={"name": "Scalper"}, headers=live.api.bearer(token)
    )
    assert created.status_code == 201, created.text
    async with connect(live.ws_url) as ws:
        await send(ws, {"type": "connect", "request_id": 7, "data": {"session_token": token}})
        greeting = await receive(ws)
    assert greeting["type"] == "connected" and greeting["request_id"] == 7
    assert greeting["data"]["user"]["id"] == user["id"]
    assert greeting["data"]["user"]["username"] == user["username"]
    assert "password_hash" not in greeting["data"]["user"]
    assert [a["name"] for a in greeting["data"]["accounts"]] == ["Scalper"]
    assert greeting["data"]["accounts"][0]["id"] == created.json()["id"]


async def test_header_wins_over_query(live: LiveServer) -> None:
    _, token = await live.user()
    url = f"{live.ws_url}?session_token=hyo_{'x' * 43}"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        assert (await receive(ws))["type"] == "connected"


@pytest.mark.parametrize(
    "url_suffix, headers",
    [
        (f"?session_token=hyo_{'x' * 43}", {}),
        ("?session_token=garbage", {}),
        ("", {"Authorization": f"Bearer hyo_{'y' * 43}"}),
        ("", {"Authorization": "Basic dXNlcjpwYXNz"}),
    ],
)
async def test_bad_handshake_token_closes_4401(
    live: LiveServer, url_suffix: str, headers: dict[str, str]
) -> None:
    async with connect(live.ws_url + url_suffix, additional_headers=headers) as ws:
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize(
    "first",
    [
        {"type": "connect", "data": {"session_token": "hyo_" + "z" * 43}},
        {"type": "connect", "data": {}},
        {"type": "subscribe", "data": {"channels": ["prices"]}},
        {"type": "ping"},
    ],
)
async def test_anything_but_a_good_connect_first_closes_4401(live: LiveServer, first: dict) -> None:
    async with connect(live.ws_url) as ws:
        await send(ws, first)
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED


async def test_malformed_first_message_closes_4401(live: LiveServer) -> None:
    async with connect(live.ws_url) as ws:
        await ws.send("{not json")
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED


async def test_silence_closes_4401_after_the_connect_timeout(live: LiveServer) -> None:
    async with connect(live.ws_url) as ws:
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED


async def test_query_token_ignored_when_turned_off(make_settings) -> None:
    settings = make_settings(allow_query_token=False, rate_limit_auth_per_minute=1000)
    async with run_server(settings, FAST_LIMITS) as server:
        _, token = await server.user()
        async with connect(f"{server.ws_url}?session_token={token}") as ws:
            assert await close_code(ws) == CLOSE_UNAUTHENTICATED
        async with open_socket(server, token, how="header") as ws:
            assert (await ask(ws, {"type": "ping"}))["type"] == "pong"


async def test_repeated_failures_are_throttled_like_http(make_settings) -> None:
    settings = make_settings(rate_limit_ip_per_minute=3, rate_limit_auth_per_minute=1000)
    async with run_server(settings, FAST_LIMITS) as server:
        codes = []
        for _ in range(5):
            async with connect(f"{server.ws_url}?session_token=hyo_{'q' * 43}") as ws:
                codes.append(await close_code(ws))
    assert codes[:3] == [CLOSE_UNAUTHENTICATED] * 3
    assert codes[3:] == [4429, 4429]


async def test_a_later_connect_with_another_token_is_refused(live: LiveServer) -> None:
    _, token = await live.user()
    _, other = await live.user()
    async with open_socket(live, token) as ws:
        again = await ask(
            ws, {"type": "connect", "request_id": "c2", "data": {"session_token": token}}
        )
        assert again["type"] == "connected" and again["request_id"] == "c2"
        refused = await ask(
            ws, {"type": "connect", "request_id": "c3", "data": {"session_token": other}}
        )
        assert refused["type"] == "error" and refused["request_id"] == "c3"
        assert refused["data"]["code"] == "ALREADY_CONNECTED"


@pytest.mark.parametrize("ending", ["logout", "logout-all", "password", "session-delete"])
async def test_ended_sessions_lose_their_sockets(live: LiveServer, ending: str) -> None:
    user, token = await live.user()
    _, bystander = await live.user()
    auth = live.api.bearer(token)
    async with open_socket(live, token) as ws, open_socket(live, bystander) as other:
        if ending == "logout":
            response = await live.http.post("/api/users/logout", headers=auth)
        elif ending == "logout-all":
            response = await live.http.post("/api/users/logout-all", headers=auth)
        elif ending == "password":
            # The password change keeps the presenting token: end the socket's from another.
            second = await live.api.login(user["username"])
            response = await live.http.put(
                "/api/users/password",
                json={
                    "current_password": "correct horse battery staple",
                    "new_password": "another long passphrase here",
                },
                headers=live.api.bearer(second),
            )
        else:
            sessions = (await live.http.get("/api/users/sessions", headers=auth)).json()
            current = next(s["id"] for s in sessions if s["current"])
            second = await live.api.login(user["username"])
            response = await live.http.delete(
                f"/api/users/sessions/{current}", headers=live.api.bearer(second)
            )
        assert response.status_code == 204, response.text
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED
        assert (await ask(other, {"type": "ping"}))["type"] == "pong"


async def test_deactivated_users_lose_their_sockets(live: LiveServer) -> None:
    from hyperoru.auth import service

    user, token = await live.user()
    async with open_socket(live, token) as ws:
        async with live.app.state.services.sessionmaker() as db:
            found = await service.find_user(db, user["username"])
            assert found is not None
            await service.deactivate_user(db, user=found)
        assert await close_code(ws) == CLOSE_UNAUTHENTICATED
