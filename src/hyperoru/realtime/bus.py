"""The one event bus of the server: in-process by default, Redis pub/sub when configured.

Publishers (the paper engine, the trader runtime, the price feed) call ``publish``;
subscribers (the WebSocket hub, later notifications) register a plain function. A
subscriber must return quickly and never block (the hub only enqueues); one that raises
is logged and the others still get the event. With Redis every process receives every
event, its own included, as JSON: never pickle, and a malformed message is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Protocol

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hyperoru.realtime.events import (
    AuthChangedEvent,
    PriceEvent,
    TraderEvent,
    decode_event,
    encode_event,
)
from hyperoru.redis_connect import redis_client
from hyperoru.settings import Settings
from hyperoru.stopping import cancel_and_wait

log = logging.getLogger("hyperoru.realtime.bus")

AnyEvent = TraderEvent | PriceEvent | AuthChangedEvent
EventHandler = Callable[[AnyEvent], None]
Unsubscribe = Callable[[], None]

_REDIS_STARTUP_SECONDS = 10.0
_RETRY_MAX_SECONDS = 10.0
_PING_SECONDS = 1.0


class EventBus(Protocol):
    async def publish(self, event: AnyEvent) -> None:
        """Hand ``event`` to every subscriber of every process. Never raises: events are
        notifications, the database stays the source of truth."""
        ...

    def subscribe(self, handler: EventHandler) -> Unsubscribe: ...


class _Subscribers:
    """The fan-out shared by both buses; a failing subscriber never reaches the publisher."""

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []

    def add(self, handler: EventHandler) -> Unsubscribe:
        self._handlers.append(handler)

        def remove() -> None:
            with suppress(ValueError):
                self._handlers.remove(handler)

        return remove

    def deliver(self, event: AnyEvent) -> None:
        for handler in tuple(self._handlers):
            try:
                handler(event)
            except Exception:
                log.exception("event subscriber failed", extra={"event_type": event.type})


class InMemoryEventBus:
    """The embedded default: subscribers run synchronously inside ``publish``."""

    def __init__(self) -> None:
        self._subscribers = _Subscribers()

    async def publish(self, event: AnyEvent) -> None:
        self._subscribers.deliver(event)

    def subscribe(self, handler: EventHandler) -> Unsubscribe:
        return self._subscribers.add(handler)


def redis_channel(client: Redis) -> str:
    # Pub/sub ignores the database number, so two deployments sharing one Redis on
    # different databases would otherwise see each other's events.
    db = client.connection_pool.connection_kwargs.get("db", 0)
    return f"hyperoru:{db}:events"


class RedisEventBus:
    """Every event goes through one Redis channel, so every process sees it exactly once."""

    def __init__(self, url: str) -> None:
        # Publishing and pings are bounded commands; the subscription blocks between
        # events on a client of its own.
        self._redis: Redis = redis_client(url)
        self._subscriber: Redis = redis_client(url, blocking_reads=True)
        self._channel = redis_channel(self._redis)
        self._subscribers = _Subscribers()
        self._listening = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe before returning, so nothing published after start-up is missed."""
        self._reader = asyncio.create_task(self._read_forever(), name="event-bus-redis")
        try:
            async with asyncio.timeout(_REDIS_STARTUP_SECONDS):
                await self._listening.wait()
        except TimeoutError:
            await self.aclose()
            raise RuntimeError("the event bus could not subscribe to Redis") from None

    async def aclose(self) -> None:
        if self._reader is not None:
            await cancel_and_wait(self._reader)
        await self._subscriber.aclose()
        await self._redis.aclose()

    async def publish(self, event: AnyEvent) -> None:
        try:
            await self._redis.publish(self._channel, encode_event(event))
        except (RedisError, OSError) as exc:
            log.warning(
                "event not published: Redis unavailable",
                extra={"event_type": event.type, "error": type(exc).__name__},
            )

    def subscribe(self, handler: EventHandler) -> Unsubscribe:
        return self._subscribers.add(handler)

    async def reachable(self) -> bool:
        """Whether Redis answers now (a health check: bounded, never raises)."""
        try:
            async with asyncio.timeout(_PING_SECONDS):
                await self._redis.ping()
        except (RedisError, OSError, TimeoutError):
            return False
        return True

    def _receive(self, raw: bytes) -> None:
        try:
            event = decode_event(raw)
        except (ValidationError, ValueError) as exc:
            # Never log the payload: it may be large or hostile.
            log.warning(
                "malformed event on the bus dropped",
                extra={"bytes": len(raw), "error": type(exc).__name__},
            )
            return
        self._subscribers.deliver(event)

    async def _read_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._listening.set()
                    delay = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._receive(message["data"])
            except (RedisError, OSError) as exc:
                log.warning(
                    "event bus lost Redis; resubscribing",
                    extra={"error": type(exc).__name__, "retry_in_s": delay},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_SECONDS)


@asynccontextmanager
async def open_event_bus(settings: Settings) -> AsyncIterator[EventBus]:
    if not settings.redis_url:
        yield InMemoryEventBus()
        return
    bus = RedisEventBus(settings.redis_url)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.aclose()
