"""Pure ASGI middleware: request ids, security headers, access log, body guard.

Written against raw ASGI (not BaseHTTPMiddleware) because it wraps every request and
must not cost a task switch or buffer streaming responses.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import quote

from hyperoru.errors import ApiError, error_response, outage_error
from hyperoru.logging_setup import redact, working_for
from hyperoru.strict_json import InvalidJson, parse_strict_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
# The one route whose body is a file, not JSON: candle uploads (CSV or Parquet; a year of
# minute candles is about 30 MiB of CSV). Its body is streamed to the route under this
# larger cap, never buffered or parsed here; the route checks its own content type.
UPLOAD_ROUTES: dict[tuple[str, str], int] = {("POST", "/api/klines/import"): 64 * 1024 * 1024}
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_API_HEADERS: list[tuple[bytes, bytes]] = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
access_log = logging.getLogger("hyperoru.access")


def _new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    request_id: str | None,
    *,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    # The same bytes and headers a route's error answer has, sent by hand: this layer
    # is outside the app's exception handlers.
    response = error_response(
        status, code, message, request_id=request_id, details=details, headers=headers
    )
    start = {"type": "http.response.start", "status": status, "headers": response.raw_headers}
    await send(start)
    await send({"type": "http.response.body", "body": response.body})


class RequestContextMiddleware:
    """Outermost layer: assigns the request id, adds headers, logs one line, and turns
    any escaped exception into the contract's 500 (so no traceback reaches a client)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else None
        request_id = request_id or _new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        with working_for(request_id):
            await self._handle(scope, receive, send, request_id, state)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, state: dict[str, Any]
    ) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        path: str = scope.get("path", "")
        # Defaults only: the dashboard's pages (and /docs) send their own policy.
        security = _API_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = list(message.get("headers", []))
                # An inner layer's own choice wins (conditional GET sets a revalidating
                # Cache-Control on the answers it tags); these are only the defaults.
                existing = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers += [h for h in security if h[0] not in existing]
                limit = state.get("rate_limit")
                if limit is not None:
                    headers += [h for h in limit.raw_headers() if h[0] not in existing]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # An outage of the database or Redis raised outside the routes (the rate
            # limits live in Redis) is a 503 to retry, not a bug.
            outage = outage_error(exc)
            if outage is None:
                logging.getLogger("hyperoru.errors").exception(
                    "unhandled error", extra={"request_id": request_id, "path": path}
                )
            if status_holder["started"]:
                pass
            elif outage is not None:
                await send_error(
                    send_with_headers,
                    outage.status,
                    outage.code,
                    outage.message,
                    request_id,
                    details=outage.details,
                    headers=outage.headers,
                )
            else:
                await send_error(
                    send_with_headers, 500, "INTERNAL_ERROR", "Internal server error", request_id
                )
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            access_log.info(
                "request",
                extra={
                    "event": "request",
                    "method": scope.get("method"),
                    "path": quote(path, safe="/:@-._~"),
                    "query": redact(query) if query else None,
                    "status": status_holder["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                    "user_id": state.get("user_id"),
                    "ip": (scope.get("client") or ("unknown",))[0],
                },
            )


def _is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyGuardMiddleware:
    """Caps bodies at 1 MiB while streaming and refuses anything that is not strict JSON
    (``strict_json``: UTF-8, no NaN, no lone surrogate or NUL in any string), before a
    single byte reaches a route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        upload_cap = UPLOAD_ROUTES.get((scope["method"], scope.get("path", "")))
        if upload_cap is not None and not _is_json_content_type(_header(scope, b"content-type")):
            await _stream_upload(self.app, scope, receive, send, upload_cap, request_id)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await send_error(
                send, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB", request_id
            )
            return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await send_error(
                    send, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB", request_id
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)

        if body.strip():
            if not _is_json_content_type(_header(scope, b"content-type")):
                await send_error(
                    send,
                    400,
                    "INVALID_JSON",
                    "Request body must be JSON sent with Content-Type: application/json",
                    request_id,
                )
                return
            try:
                parse_strict_json(body)
            except InvalidJson as exc:
                await send_error(
                    send,
                    400,
                    "INVALID_JSON",
                    f"Request body is not valid JSON ({exc.reason})",
                    request_id,
                )
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _stream_upload(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, cap: int, request_id: str | None
) -> None:
    """Pass a file upload through as it arrives; past ``cap`` bytes the route's read
    fails with 413 (an ApiError, so the app's handler answers in the contract's shape)."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        await send_error(send, 413, "PAYLOAD_TOO_LARGE", _too_large(cap), request_id)
        return
    size = 0

    async def capped() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > cap:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", _too_large(cap))
        return message

    await app(scope, capped, send)


def _too_large(cap: int) -> str:
    return f"Upload exceeds {cap // (1024 * 1024)} MiB"
