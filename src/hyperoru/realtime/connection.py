"""One authenticated socket: its subscriptions, a reader, a bounded writer, and closing.

The reader handles one client message at a time. Replies and pushes go out in order:
straight onto the socket when it is idle and writable (``transport.PREBUILT_FRAMES``; no
task wakes), otherwise into one bounded queue drained by the writer. A client that stops
reading fills only its own queue and is then disconnected (4408) without slowing the
publisher or any other socket.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from enum import Enum

from starlette.websockets import WebSocket, WebSocketDisconnect

from hyperoru.auth.principal import Principal
from hyperoru.realtime.events import Channel
from hyperoru.realtime.frames import OutgoingFrame
from hyperoru.realtime.limits import (
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TOO_SLOW,
    WsLimits,
)
from hyperoru.realtime.protocol import WsError, error_reply, request_id_of
from hyperoru.realtime.transport import frame_writer

log = logging.getLogger("hyperoru.realtime.ws")

_MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    """Who the socket speaks for: its session. Changed only by ``Hub.switch_identity``
    (``switch_user`` with a token of the new user), which re-indexes the socket."""

    user: Principal
    session_id: int
    # The token's SHA-256 digest (never the token): lets a later `connect` be compared.
    digest: str


class Verdict(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ABUSIVE = "abusive"


class MessageBudget:
    """A sliding minute of client messages: past the budget messages are refused, and a
    client that keeps sending refused messages is cut off."""

    def __init__(
        self,
        per_minute: int,
        refused_before_close: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._accepted: deque[float] = deque(maxlen=per_minute)
        self._refused: deque[float] = deque(maxlen=refused_before_close)
        self._clock = clock

    @staticmethod
    def _full(window: deque[float], now: float) -> bool:
        return len(window) == window.maxlen and now - window[0] < _MINUTE

    def take(self) -> Verdict:
        now = self._clock()
        if not self._full(self._accepted, now):
            self._accepted.append(now)
            return Verdict.ACCEPTED
        self._refused.append(now)
        return Verdict.ABUSIVE if self._full(self._refused, now) else Verdict.REFUSED

    def retry_after(self) -> int:
        """Whole seconds until the oldest counted message leaves the window."""
        if not self._accepted:
            return 0
        return max(1, math.ceil(_MINUTE - (self._clock() - self._accepted[0])))


Dispatch = Callable[["Connection", str], Awaitable[None]]


class Connection:
    def __init__(
        self, websocket: WebSocket, identity: SocketIdentity, limits: WsLimits, *, ip: str
    ) -> None:
        self.websocket = websocket
        self.identity = identity
        self.ip = ip
        # Changed only through the hub (``Hub.subscribe``), which indexes sockets by channel.
        self.channels: set[Channel] = set()
        # The trader `switch_account` chose; messages without an account_id use it.
        self.account_id: int | None = None
        self._limits = limits
        self._queue: deque[OutgoingFrame] = deque()
        self._queued = asyncio.Event()
        # True while the writer holds a frame it has not finished sending: later frames
        # must queue behind it, never overtake it on the direct path.
        self._sending = False
        self._write_frame = frame_writer(websocket)
        self._budget = MessageBudget(
            limits.messages_per_minute, limits.refused_messages_before_close
        )
        self._closing = asyncio.Event()
        self._peer_gone = False
        self.close_code: int | None = None
        self.close_reason = ""
        # The server ended the socket (``close``), rather than the client leaving.
        self.dropped = False

    @property
    def user_id(self) -> int:
        return self.identity.user.id

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def offer(self, frame: OutgoingFrame | str) -> None:
        """Send or queue a frame without waiting; a full queue disconnects this client only."""
        if self.closing:
            return
        if isinstance(frame, str):
            frame = OutgoingFrame(frame)
        if (
            self._write_frame is not None
            and not self._queue
            and not self._sending
            and self._write_frame(frame.wire)
        ):
            return
        if len(self._queue) >= self._limits.send_queue_size:
            self.close(CLOSE_TOO_SLOW, "client too slow: send queue full")
            return
        self._queue.append(frame)
        self._queued.set()

    def close(self, code: int, reason: str) -> None:
        """Ask the socket to close; the first reason given wins."""
        if self.closing:
            return
        self.close_code = code
        self.close_reason = reason
        self.dropped = True
        self._closing.set()

    async def serve(self, dispatch: Dispatch) -> None:
        """Run until the client leaves or ``close`` is called."""
        tasks = [
            asyncio.create_task(self._read(dispatch), name="ws-reader"),
            asyncio.create_task(self._write(), name="ws-writer"),
            asyncio.create_task(self._closing.wait(), name="ws-closing"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def send_close(self) -> None:
        """Send the close frame (unless the client already left). It queues behind data
        the client has not read yet; if it cannot go out within the grace period the
        handler returns and the server drops the connection."""
        if self._peer_gone:
            return
        with suppress(Exception):
            async with asyncio.timeout(self._limits.close_grace_seconds):
                await self.websocket.close(self.close_code or 1000, self.close_reason[:120])

    async def _read(self, dispatch: Dispatch) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self._mark_peer_gone(message.get("code", 1005))
                return
            verdict = self._budget.take()
            if verdict is Verdict.ABUSIVE:
                log.warning(
                    "websocket closed for message flooding",
                    extra={"event": "ws_rate_abuse", "user_id": self.user_id, "ip": self.ip},
                )
                self.close(CLOSE_POLICY, "message rate limit exceeded repeatedly")
                return
            text = message.get("text")
            if text is not None and len(text.encode()) > self._limits.max_message_bytes:
                self.close(CLOSE_TOO_BIG, "message too big")
                return
            if verdict is Verdict.REFUSED:
                log.info(
                    "websocket message rate limited",
                    extra={"event": "ws_rate_limited", "user_id": self.user_id, "ip": self.ip},
                )
                self.offer(
                    error_reply(
                        WsError(
                            "RATE_LIMITED",
                            f"At most {self._limits.messages_per_minute} messages a minute",
                            {
                                "limit": self._limits.messages_per_minute,
                                "retry_after": self._budget.retry_after(),
                            },
                        ),
                        request_id_of(text),
                    )
                )
                continue
            if text is None:
                self.offer(
                    error_reply(WsError("INVALID_JSON", "Send JSON text frames, not binary"))
                )
                continue
            await dispatch(self, text)

    def _mark_peer_gone(self, code: int = 1006) -> None:
        # Nothing more can be sent: no close frame, and the client's code is what we log.
        self._peer_gone = True
        if self.close_code is None:
            self.close_code = code
        self._closing.set()

    async def _write(self) -> None:
        while True:
            if not self._queue:
                self._queued.clear()
                await self._queued.wait()
                continue
            frame = self._queue.popleft()
            self._sending = True
            try:
                # asyncio.timeout, not wait_for: no extra task per frame.
                async with asyncio.timeout(self._limits.send_timeout_seconds):
                    await self.websocket.send_text(frame.text)
            except TimeoutError:
                self.close(CLOSE_TOO_SLOW, "client too slow: send timed out")
                return
            except (WebSocketDisconnect, RuntimeError, OSError):
                self._mark_peer_gone()
                return
            finally:
                self._sending = False
