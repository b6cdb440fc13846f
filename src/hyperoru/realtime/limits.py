"""Limits of the WebSocket feed (contract §9) and the close codes it uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperoru.realtime.transport import PrebuiltFrameProtocol

# Close codes. 4xxx are application codes (RFC 6455 §7.4.2), named after their HTTP twins.
CLOSE_UNAUTHENTICATED = 4401  # no, bad, expired or revoked token; or no `connect` in time
CLOSE_AUTH_THROTTLED = 4429  # too many failed authentications from this address
CLOSE_TOO_MANY_SOCKETS = 4409  # the user already holds max_sockets_per_user sockets here
CLOSE_TOO_SLOW = 4408  # the client does not read fast enough: its send queue overflowed
CLOSE_POLICY = 1008  # sustained abuse of the message rate limit
CLOSE_TOO_BIG = 1009  # a message over max_message_bytes
CLOSE_GOING_AWAY = 1001  # server shutting down


@dataclass(frozen=True, slots=True)
class WsLimits:
    max_message_bytes: int = 64 * 1024
    messages_per_minute: int = 100
    # Per user and per server process: each socket costs a task pair and a send queue, so
    # one leaked or hostile token must not be able to open them without bound.
    max_sockets_per_user: int = 32
    # Refused messages tolerated within the minute before the socket is closed (1008).
    refused_messages_before_close: int = 100
    connect_timeout_seconds: float = 10.0
    # Pushes and replies waiting for one socket; beyond this the client is too slow.
    send_queue_size: int = 256
    # One frame that cannot be written for this long also marks the client too slow.
    send_timeout_seconds: float = 10.0
    # How long a closing frame may wait behind unread data before the socket is dropped.
    close_grace_seconds: float = 5.0
    # Revoked, expired and deactivated sessions lose their sockets within this delay.
    session_check_seconds: float = 3.0
    # How often the price cache is read for changes to publish.
    price_poll_seconds: float = 1.0
    # Protocol-level pings (sent by uvicorn; ASGI apps cannot send ping frames).
    ping_interval_seconds: float = 20.0
    ping_timeout_seconds: float = 20.0


def uvicorn_ws_options(limits: WsLimits | None = None) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config`` that match ``limits``:
    frames over the cap are refused by the server itself (close 1009), pings every 20 s,
    no permessage-deflate (no compression bombs, no CRIME-style length leaks; and a
    fan-out frame is then the same bytes for every socket), and uvicorn's websockets
    protocol that takes such a frame ready-made (``transport.PrebuiltFrameProtocol``)."""
    limits = limits or WsLimits()
    return {
        "ws": PrebuiltFrameProtocol,
        "ws_max_size": limits.max_message_bytes,
        "ws_ping_interval": limits.ping_interval_seconds,
        "ws_ping_timeout": limits.ping_timeout_seconds,
        "ws_per_message_deflate": False,
    }
