"""Fan-out: each event is encoded once whatever the number of sockets, only the sockets
listening on its channel (and, for a trader's channel, its owner's) are looked at, and a
socket that stops reading never holds up the others."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from hyperoru.realtime.events import PositionEvent, PriceEvent, TradeEvent
from hyperoru.realtime.frames import OutgoingFrame
from hyperoru.realtime.hub import Hub, PushEvent, encode_push
from hyperoru.timeutils import utcnow
from tests.market.waiting import eventually
from tests.realtime.conftest import (
    FAST_LIMITS,
    LiveServer,
    ask,
    open_socket,
    receive,
    run_server,
    send,
)

SYMBOL = "FANOUTTEST"


class CountingFrame(OutgoingFrame):
    """Counts how often a frame's wire bytes are built (they are cached after the first)."""

    __slots__ = ()
    wire_builds: Counter[str] = Counter()

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            CountingFrame.wire_builds[self.text] += 1
        return super().wire


class CountingEncoder:
    def __init__(self) -> None:
        self.encoded: list[PushEvent] = []

    def __call__(self, event: PushEvent) -> OutgoingFrame:
        self.encoded.append(event)
        return CountingFrame(encode_push(event).text)

    def count(self, symbol: str) -> int:
        # The market feed publishes real prices meanwhile; only ours are counted.
        return sum(1 for e in self.encoded if isinstance(e, PriceEvent) and e.symbol == symbol)


async def _next_for(ws, symbol: str) -> dict:
    for _ in range(1000):
        message = await receive(ws)
        if message["type"] == "price_update" and message["data"].get("symbol") == symbol:
            return message
    raise AssertionError(f"no {symbol} price arrived")


def _price(n: int) -> PriceEvent:
    at = utcnow() + timedelta(days=3650, seconds=n)
    return PriceEvent(symbol=SYMBOL, observed_at=at, data={"symbol": SYMBOL, "n": n})


@pytest.mark.parametrize("ws_protocol", [None, "websockets-sansio"], ids=["prebuilt", "plain"])
async def test_each_event_is_encoded_once_for_all_its_sockets(ws_settings, ws_protocol) -> None:
    CountingFrame.wire_builds.clear()
    async with run_server(ws_settings, FAST_LIMITS, ws_protocol=ws_protocol) as server:
        alice, alice_token = await server.user()
        _, bob_token = await server.user()
        hub: Hub = server.app.state.services.ws_hub
        encoder = CountingEncoder()
        hub.encode = encoder
        bus = server.app.state.services.bus
        async with (
            open_socket(server, alice_token) as a1,
            open_socket(server, alice_token) as a2,
            open_socket(server, bob_token) as b1,
            open_socket(server, bob_token) as b2,
        ):
            listeners = (a1, a2, b1, b2)
            for ws in listeners:
                await ask(ws, {"type": "subscribe", "data": {"channels": ["prices", "trades"]}})
            for n in range(3):
                await bus.publish(_price(n))
            for ws in listeners:
                assert [(await _next_for(ws, SYMBOL))["data"]["n"] for _ in range(3)] == [0, 1, 2]
            assert encoder.count(SYMBOL) == 3

            await bus.publish(TradeEvent(user_id=alice["id"], account_id=1, data={"t": 1}))
            for ws in (a1, a2):
                message = await receive(ws)
                while message["type"] == "price_update":
                    message = await receive(ws)
                assert message["data"] == {"t": 1}
            trades = [e for e in encoder.encoded if isinstance(e, TradeEvent)]
            assert len(trades) == 1

    ours = {text: n for text, n in CountingFrame.wire_builds.items() if SYMBOL in text}
    if ws_protocol is None:
        # Written ready-made to every socket: the wire bytes were built once per event.
        assert sorted(ours.values()) == [1, 1, 1]
    else:
        # Through ASGI only (the server frames each send itself): never built here.
        assert ours == {}


async def test_only_listening_sockets_are_indexed_for_an_event(live: LiveServer) -> None:
    alice, alice_token = await live.user()
    bob, bob_token = await live.user()
    hub: Hub = live.app.state.services.ws_hub
    encoder = CountingEncoder()
    hub.encode = encoder
    bus = live.app.state.services.bus
    async with (
        open_socket(live, alice_token) as prices_and_trades,
        open_socket(live, alice_token) as positions_only,
        open_socket(live, bob_token) as bobs,
    ):
        await ask(prices_and_trades, {"type": "subscribe", "data": {"channels": ["trades"]}})
        await _until(
            prices_and_trades,
            {"type": "subscribe", "data": {"channels": ["prices"]}},
            "subscribed",
        )
        await ask(positions_only, {"type": "subscribe", "data": {"channels": ["positions"]}})
        await ask(bobs, {"type": "subscribe", "data": {"channels": ["trades"]}})
        assert hub.count_listening("prices") == 1
        assert hub.count_listening("trades", alice["id"]) == 1
        assert hub.count_listening("trades", bob["id"]) == 1
        assert hub.count_listening("positions", alice["id"]) == 1
        assert hub.count_listening("positions", bob["id"]) == 0

        # Nobody listens to Bob's positions: that event is not even encoded, and Bob's
        # socket gets nothing (its next message is the answer to its ping).
        await bus.publish(PositionEvent(user_id=bob["id"], account_id=2, data={"p": 1}))
        assert not [e for e in encoder.encoded if isinstance(e, PositionEvent)]
        assert (await ask(bobs, {"type": "ping"}))["type"] == "pong"

        await _until(
            prices_and_trades,
            {"type": "unsubscribe", "data": {"channels": ["prices"]}},
            "unsubscribed",
        )
        assert hub.count_listening("prices") == 0
        assert hub.count_listening("trades", alice["id"]) == 1

    async def still_indexed() -> int:
        return (
            hub.count_listening("trades", alice["id"])
            + hub.count_listening("trades", bob["id"])
            + hub.count_listening("positions", alice["id"])
        )

    # Sockets that close leave the index.
    await eventually(still_indexed, lambda n: n == 0)


async def _until(ws, message: dict, reply_type: str) -> dict:
    """Send ``message`` and read until its reply (prices may tick in between)."""
    await send(ws, message)
    for _ in range(1000):
        got = await receive(ws)
        if got["type"] == reply_type:
            return got
    raise AssertionError(f"no {reply_type}")
