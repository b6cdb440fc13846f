"""Who may open /ws: the Origin check before the upgrade, then authentication with the
same token verifier as HTTP, from the header, the query string or a first `connect`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from hyperoru.auth.dependencies import presented_token
from hyperoru.auth.service import resolve_token
from hyperoru.auth.tokens import token_digest
from hyperoru.errors import ApiError
from hyperoru.ratelimit.dependencies import MINUTE
from hyperoru.ratelimit.limiter import Budget, RateLimiter
from hyperoru.realtime.connection import SocketIdentity
from hyperoru.realtime.limits import CLOSE_AUTH_THROTTLED, CLOSE_UNAUTHENTICATED, WsLimits
from hyperoru.realtime.protocol import RequestId, WsError, parse_client_message
from hyperoru.settings import Settings

log = logging.getLogger("hyperoru.realtime.ws")


def client_ip(websocket: WebSocket) -> str:
    return websocket.client.host if websocket.client else "unknown"


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """No Origin (CLI, bots) passes; a browser's Origin must be listed or be this server."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in settings.allowed_origin_list:
        return True
    parts = urlsplit(origin)
    host = websocket.headers.get("host", "")
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.lower()


@dataclass(frozen=True, slots=True)
class Admission:
    identity: SocketIdentity
    # The `connect` message's id when that is how the client authenticated.
    request_id: RequestId | None


class Refusal(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def _token_from_first_message(
    websocket: WebSocket, limits: WsLimits
) -> tuple[str, RequestId | None]:
    try:
        # asyncio.timeout keeps a cancel that lands with the message (wait_for loses it).
        async with asyncio.timeout(limits.connect_timeout_seconds):
            message = await websocket.receive()
    except TimeoutError:
        raise Refusal(CLOSE_UNAUTHENTICATED, "authentication timed out: send connect") from None
    if message["type"] == "websocket.disconnect":
        raise Refusal(CLOSE_UNAUTHENTICATED, "closed before authenticating")
    text = message.get("text")
    if text is None or len(text.encode()) > limits.max_message_bytes:
        raise Refusal(CLOSE_UNAUTHENTICATED, "authenticate first: send connect")
    try:
        first = parse_client_message(text)
    except WsError:
        raise Refusal(CLOSE_UNAUTHENTICATED, "authenticate first: send connect") from None
    token = first.data.get("session_token")
    if first.type != "connect" or not isinstance(token, str):
        raise Refusal(
            CLOSE_UNAUTHENTICATED, "authenticate first: send connect with a session_token"
        )
    return token, first.request_id


async def failed_authentication_allowed(limiter: RateLimiter, settings: Settings, ip: str) -> bool:
    """Count a bad token presented from ``ip``; False once the address is over budget.
    Like HTTP: a failure spends the address's anonymous budget, so guessing is slow."""
    failures = Budget("ip", settings.rate_limit_ip_per_minute, MINUTE)
    return (await limiter.hit(failures, ip)).allowed


async def admit(websocket: WebSocket, limits: WsLimits) -> Admission:
    """Authenticate an accepted socket, or raise ``Refusal``: close 4401, or 4429 when
    this address is over its anonymous budget (as HTTP answers 429)."""
    services = websocket.app.state.services
    settings: Settings = services.settings
    ip = client_ip(websocket)
    try:
        # The same header-wins / query-fallback rules as HTTP (a WebSocket is an
        # HTTPConnection with the headers and query string that function reads).
        token = presented_token(websocket)
    except ApiError as exc:
        raise Refusal(CLOSE_UNAUTHENTICATED, exc.code) from None
    request_id: RequestId | None = None
    if token is None:
        token, request_id = await _token_from_first_message(websocket, limits)

    try:
        principal, session = await resolve_token(
            services.sessionmaker, settings, token, services.token_cache
        )
    except ApiError as exc:
        if not await failed_authentication_allowed(services.limiter, settings, ip):
            raise Refusal(CLOSE_AUTH_THROTTLED, "too many failed authentications") from None
        raise Refusal(CLOSE_UNAUTHENTICATED, exc.code) from None
    identity = SocketIdentity(user=principal, session_id=session.id, digest=token_digest(token))
    return Admission(identity=identity, request_id=request_id)
