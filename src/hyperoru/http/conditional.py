"""Pure ASGI middleware: conditional GET (``ETag`` / ``If-None-Match`` → 304).

Dashboards and scripts poll the same reads over and over (trader lists, overviews, a
backtest's status); most of those answers have not changed since the last poll. Every
authenticated ``GET /api/...`` answered 200 with a complete JSON body gets a strong
``ETag`` computed from that body, and a request whose ``If-None-Match`` names it gets
**304** with no body: the route still runs, but nothing is sent again.

- The tag is a BLAKE2b of the body personalised with the caller's user id: it reveals
  nothing but "same bytes for the same user", and two users never share one (even for
  identical bodies), so a tag seen by one user never revalidates another's answer.
- ``Cache-Control: private, no-cache`` and ``Vary: Authorization``: a client may keep the
  answer but must revalidate it every time; shared caches must not keep it.
- Streaming answers (no ``Content-Length``) and very large ones, other methods,
  WebSockets, errors and anonymous routes pass through untouched.

It sits outside the request-context middleware so that it has the last word on
``Cache-Control`` (that layer sends ``no-store`` on every API answer, which would forbid
the client to keep what it revalidates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Larger answers stream through untagged: buffering them would cost more than a resend.
MAX_TAGGED_BYTES = 8 * 1024 * 1024
_CACHE_CONTROL = b"private, no-cache"
# Headers a 304 must not carry: they describe the body it does not send.
_BODY_HEADERS = frozenset({b"content-length", b"content-type", b"content-encoding"})
_REPLACED = frozenset({b"cache-control", b"etag"})


def entity_tag(body: bytes, user_id: int) -> bytes:
    """A strong tag: 128 bits of BLAKE2b over the body, personalised by the user id."""
    person = b"hyo-etag" + user_id.to_bytes(8, "big")
    digest = hashlib.blake2b(body, digest_size=16, person=person).hexdigest()
    return b'"' + digest.encode() + b'"'


# Polled routes send the same remembered body object again and again (the trader list:
# several kilobytes); a bytes object keeps its hash, so finding its tag here costs less
# than hashing the body again. Bounded in entries and in the size of what it keeps.
_REMEMBERED_TAGS = 1024
_REMEMBERED_BODY_BYTES = 64 * 1024
_tags: dict[tuple[int, bytes], bytes] = {}


def remembered_tag(body: bytes, user_id: int) -> bytes:
    """``entity_tag``, computed once per (user, body) while the body is small and seen
    often."""
    if len(body) > _REMEMBERED_BODY_BYTES:
        return entity_tag(body, user_id)
    key = (user_id, body)
    tag = _tags.get(key)
    if tag is None:
        if len(_tags) >= _REMEMBERED_TAGS:
            _tags.clear()
        tag = _tags[key] = entity_tag(body, user_id)
    return tag


def matches(if_none_match: bytes, tag: bytes) -> bool:
    """RFC 9110 13.1.2: ``*`` or any listed tag equal under weak comparison."""
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate == b"*":
            return True
        if candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == tag:
            return True
    return False


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _request_header(scope: Scope, name: bytes) -> bytes | None:
    # Servers send request header names in lower case (Starlette's Headers relies on it
    # too): compared as they are, without a copy of the list.
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return value
    return None


def _is_buffered_json(message: Message) -> bool:
    """A 200 whose whole length is announced and small enough to hold."""
    if message["status"] != 200:
        return False
    headers = message.get("headers", [])
    length = _header(headers, b"content-length")
    return length is not None and length.isdigit() and int(length) <= MAX_TAGGED_BYTES


def _tagged_headers(headers: list[tuple[bytes, bytes]], tag: bytes) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() not in _REPLACED]
    vary = _header(kept, b"vary")
    if vary is None:
        kept.append((b"vary", b"Authorization"))
    elif b"authorization" not in vary.lower():
        kept = [(k, v) for k, v in kept if k.lower() != b"vary"]
        kept.append((b"vary", vary + b", Authorization"))
    kept.append((b"etag", tag))
    kept.append((b"cache-control", _CACHE_CONTROL))
    return kept


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not scope.get("path", "").startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        if_none_match = _request_header(scope, b"if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def hold(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                if _is_buffered_json(message):
                    start = message
                else:
                    passing = True
                    await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._finish(scope, start, b"".join(chunks), if_none_match, send)
            else:
                await send(message)

        await self.app(scope, receive, hold)

    @staticmethod
    async def _finish(
        scope: Scope, start: Message, body: bytes, if_none_match: bytes | None, send: Send
    ) -> None:
        user_id = scope.get("state", {}).get("user_id")
        headers = list(start.get("headers", []))
        if user_id is None:  # an anonymous route: nothing to tag per user
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        tag = remembered_tag(body, int(user_id))
        headers = _tagged_headers(headers, tag)
        if if_none_match is not None and matches(if_none_match, tag):
            unchanged = [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": unchanged})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
