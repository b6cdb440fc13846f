"""The WebSocket helper against a real server: when the server drops the socket, the
stream connects again with the same token, subscribes again to its channels, and the
next event on them arrives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from hyperoru.client import AsyncClient, Stream
from tests.client.conftest import base_url
from tests.helpers import STRONG_PASSWORD
from tests.realtime.conftest import LiveServer

SERVICE_RESTART = 1012


async def _next_of(stream: Stream, kind: str) -> dict[str, Any]:
    """The next message of ``kind``; pushes of other kinds may come first."""
    for _ in range(50):
        message = await stream.recv()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} in 50 messages")


def _drop_every_socket(server: LiveServer, code: int) -> None:
    for connection in server.app.state.services.ws_hub.connections():
        connection.close(code, "dropped by the test")


async def test_the_stream_resubscribes_after_a_drop_and_gets_the_next_event(
    server: LiveServer,
) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with AsyncClient(base_url(server)) as api:
        await api.register("erin", STRONG_PASSWORD)
        await api.login("erin", STRONG_PASSWORD)
        trader = await api.create_trader("ws-bot")
        async with api.stream(["trades"], sleep=record) as stream:
            assert stream.connected["user"]["username"] == "erin"
            assert (await _next_of(stream, "subscribed"))["data"]["channels"] == ["trades"]

            _drop_every_socket(server, SERVICE_RESTART)
            again = await _next_of(stream, "subscribed")
            assert again["data"]["channels"] == ["trades"]
            assert stream.reconnects == 1 and waits == [0.0]

            order = await api.create_order(
                account_id=trader.id, symbol="BTC", side="buy", quantity=Decimal("0.01")
            )
            await api.execute_order(order.id)
            update = await _next_of(stream, "trade_update")
            assert update["account_id"] == trader.id
            assert update["data"]["order_id"] == order.id


async def test_a_revoked_session_ends_the_stream_instead_of_reconnecting(
    server: LiveServer,
) -> None:
    async with AsyncClient(base_url(server)) as api:
        await api.register("frank", STRONG_PASSWORD)
        await api.login("frank", STRONG_PASSWORD)
        async with api.stream(["trades"]) as stream:
            await _next_of(stream, "subscribed")
            await api.logout_all()
            with pytest.raises(ConnectionClosed) as closed:
                await stream.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
            assert stream.reconnects == 0
