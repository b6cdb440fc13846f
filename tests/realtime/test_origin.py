"""Cross-site WebSocket hijacking: a browser Origin must be allowed or be this server."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.realtime.conftest import FAST_LIMITS, LiveServer, ask, open_socket, run_server


async def test_a_foreign_origin_is_refused_before_the_upgrade(live: LiveServer) -> None:
    _, token = await live.user()
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{live.ws_url}?session_token={token}", origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_no_origin_and_the_servers_own_origin_are_accepted(live: LiveServer) -> None:
    _, token = await live.user()
    async with open_socket(live, token) as ws:
        assert (await ask(ws, {"type": "ping"}))["type"] == "pong"
    own = f"http://127.0.0.1:{live.port}"
    async with open_socket(live, token, origin=own) as ws:
        assert (await ask(ws, {"type": "ping"}))["type"] == "pong"


async def test_listed_origins_are_accepted_and_others_still_refused(make_settings) -> None:
    settings = make_settings(allowed_origins="https://app.example", rate_limit_auth_per_minute=1000)
    async with run_server(settings, FAST_LIMITS) as server:
        _, token = await server.user()
        async with open_socket(server, token, origin="https://app.example") as ws:
            assert (await ask(ws, {"type": "ping"}))["type"] == "pong"
        for origin in ("https://app.example.evil.example", "null", "http://app.example"):
            with pytest.raises(InvalidStatus):
                async with connect(f"{server.ws_url}?session_token={token}", origin=origin):
                    pass
