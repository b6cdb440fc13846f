"""A WebSocket on ``/ws`` (contract §9) that outlives dropped connections: after a drop
it connects again with the same token and subscribes again to every channel it had, so
a reader only ever sees a gap, never a dead socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from itertools import count
from typing import Any, Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hyperoru.client.core import Auth

# Closes that another attempt cannot cure: a bad or revoked token, too many sockets or
# failed logins, abuse of the limits. The reader gets the ConnectionClosed.
FINAL_CLOSE_CODES = frozenset({1008, 1009, 4401, 4409, 4429})
RECONNECT_DELAYS = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0)


class Stream:
    def __init__(
        self,
        url: str,
        auth: Auth,
        channels: Iterable[str] = (),
        *,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
        max_reconnect_attempts: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        open_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.channels: set[str] = set(channels)
        self.reconnects = 0  # successful reconnects so far
        self.connected: dict[str, Any] = {}  # the server's `connected` data: user, accounts
        self._auth = auth
        self._delays = reconnect_delays
        self._max_attempts = max_reconnect_attempts
        self._sleep = sleep
        self._open_timeout = open_timeout
        self._ws: ClientConnection | None = None
        self._closing = False
        self._ids = count(1)

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self.recv()

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()

    async def send(self, type: str, data: Any = None, request_id: str | None = None) -> str:
        """Send one message; returns its ``request_id`` (the server echoes it)."""
        request_id = request_id or f"c{next(self._ids)}"
        message = {"type": type, "request_id": request_id, "data": data or {}}
        await self._socket().send(json.dumps(message))
        return request_id

    async def subscribe(self, *channels: str) -> str:
        self.channels.update(channels)
        return await self.send("subscribe", {"channels": sorted(channels)})

    async def unsubscribe(self, *channels: str) -> str:
        self.channels.difference_update(channels)
        return await self.send("unsubscribe", {"channels": sorted(channels)})

    async def recv(self) -> dict[str, Any]:
        """The next message; reconnects and subscribes again first if the socket dropped."""
        while True:
            try:
                raw = await self._socket().recv()
                message: dict[str, Any] = json.loads(raw, parse_float=Decimal)
                return message
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if self._closing or code in FINAL_CLOSE_CODES:
                    raise
                await self._reconnect()

    def _socket(self) -> ClientConnection:
        if self._ws is None:
            raise RuntimeError("the stream is not open: use `async with client.stream(...)`")
        return self._ws

    async def _open(self) -> None:
        ws = await connect(
            self.url, additional_headers=self._auth.headers(), open_timeout=self._open_timeout
        )
        async with asyncio.timeout(self._open_timeout):
            greeting = json.loads(await ws.recv())
        if greeting.get("type") != "connected":
            await ws.close()
            raise ConnectionError(f"expected `connected` from {self.url}, got {greeting!r}")
        self.connected = greeting.get("data") or {}
        self._ws = ws
        if self.channels:
            await self.send("subscribe", {"channels": sorted(self.channels)})

    async def _reconnect(self) -> None:
        for attempt in count():
            if self._max_attempts is not None and attempt >= self._max_attempts:
                raise ConnectionError(f"could not reconnect to {self.url}")
            await self._sleep(self._delays[min(attempt, len(self._delays) - 1)])
            try:
                await self._open()
            except InvalidStatus:
                raise  # refused at the handshake (e.g. 403 origin): retrying will not help
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                continue
            self.reconnects += 1
            return
