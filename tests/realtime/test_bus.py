"""The event bus: failure isolation, and with Redis: every process gets every event,
JSON only, malformed messages dropped without killing the reader."""

from __future__ import annotations

import asyncio
import logging
import pickle

import pytest
from redis.asyncio import Redis

from hyperoru.realtime.bus import InMemoryEventBus, RedisEventBus, redis_channel
from hyperoru.realtime.events import PriceEvent, TradeEvent, decode_event, encode_event
from hyperoru.timeutils import utcnow

TRADE = TradeEvent(user_id=1, account_id=2, data={"id": 3, "price": 61000.5})


def test_events_round_trip_and_refuse_what_they_do_not_know() -> None:
    price = PriceEvent(symbol="BTC", observed_at=utcnow(), data={"price": 1.25})
    assert decode_event(encode_event(TRADE)) == TRADE
    assert decode_event(encode_event(price)) == price
    for bad in (
        b'{"type": "order", "user_id": 1, "account_id": 2, "data": {}}',
        b'{"type": "trade", "user_id": 1, "data": {}}',
        b'{"type": "trade", "user_id": 1, "account_id": 2, "data": {}, "extra": 1}',
        pickle.dumps(TRADE.model_dump()),
    ):
        with pytest.raises(ValueError):
            decode_event(bad)
    with pytest.raises(ValueError):
        TRADE.user_id = 9  # type: ignore[misc] - events are immutable


async def test_a_failing_subscriber_is_logged_and_the_others_still_receive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = InMemoryEventBus()
    received: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    stop = bus.subscribe(received.append)
    with caplog.at_level(logging.ERROR, logger="hyperoru.realtime.bus"):
        await bus.publish(TRADE)
    assert received == [TRADE]
    assert "event subscriber failed" in caplog.text
    stop()
    await bus.publish(TRADE)
    assert received == [TRADE]


async def _next(queue: asyncio.Queue[object]) -> object:
    return await asyncio.wait_for(queue.get(), 10)


async def test_redis_delivers_each_event_to_every_process_once(redis_url: str) -> None:
    first, second = RedisEventBus(redis_url), RedisEventBus(redis_url)
    await first.start()
    await second.start()
    try:
        at_first: asyncio.Queue[object] = asyncio.Queue()
        at_second: asyncio.Queue[object] = asyncio.Queue()
        first.subscribe(at_first.put_nowait)
        second.subscribe(at_second.put_nowait)
        await first.publish(TRADE)
        assert await _next(at_first) == TRADE
        assert await _next(at_second) == TRADE
        follow_up = TRADE.model_copy(update={"account_id": 99})
        await second.publish(follow_up)
        assert await _next(at_first) == follow_up  # not a second copy of TRADE
        assert await _next(at_second) == follow_up
    finally:
        await first.aclose()
        await second.aclose()


async def test_malformed_redis_messages_are_dropped_and_logged(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisEventBus(redis_url)
    await bus.start()
    raw = Redis.from_url(redis_url)
    try:
        received: asyncio.Queue[object] = asyncio.Queue()
        bus.subscribe(received.put_nowait)
        channel = redis_channel(raw)
        with caplog.at_level(logging.WARNING, logger="hyperoru.realtime.bus"):
            for garbage in (b"\xff\xfe", b"not json", b'{"type": "trade"}', pickle.dumps(TRADE)):
                await raw.publish(channel, garbage)
            await bus.publish(TRADE)
            assert await _next(received) == TRADE
        assert received.empty()
        assert caplog.text.count("malformed event on the bus dropped") == 4
    finally:
        await raw.aclose()
        await bus.aclose()


def test_the_channel_is_scoped_to_the_redis_database() -> None:
    # Pub/sub ignores database numbers; the channel name must not.
    assert redis_channel(Redis.from_url("redis://127.0.0.1:6379/5")) == "hyperoru:5:events"
    assert redis_channel(Redis.from_url("redis://127.0.0.1:6379")) == "hyperoru:0:events"
