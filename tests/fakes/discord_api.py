"""A fake Discord REST API (v10 paths): a real HTTP server on loopback.

Bots the test adds (``Authorization: Bot <token>``; 401 otherwise) may post to channels
(``/channels/{id}/messages``; 403 Missing Access for a channel in ``forbidden``, 404 for
one in ``deleted``); channel webhooks the test adds answer GET and POST
(``/webhooks/{id}/{token}``). Every call is recorded; ``fail_next`` scripts 429 (with
``retry_after`` in the body and the ``Retry-After`` header) or 500. A channel message's
``nonce`` with ``enforce_nonce`` is honoured as Discord does: the same nonce twice makes
one message.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_requests import RawRequest
from tests.fakes.json_server import Answer, serve_json

_CHANNEL = re.compile(r"^/channels/([0-9]+)/messages$")
_WEBHOOK = re.compile(r"^/webhooks/([0-9]+)/([A-Za-z0-9_-]+)$")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeDiscord:
    base_url: str = ""
    bots: dict[str, str] = field(default_factory=dict)  # token -> username
    webhooks: dict[str, str] = field(default_factory=dict)  # "id/token" -> name
    forbidden: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # what was posted
    _faults: list[tuple[int, float]] = field(default_factory=list)

    def add_bot(self, token: str, username: str) -> None:
        self.bots[token] = username

    def add_webhook(self, webhook_id: str, token: str, name: str = "hooks") -> str:
        self.webhooks[f"{webhook_id}/{token}"] = name
        return f"https://discord.com/api/webhooks/{webhook_id}/{token}"

    def fail_next(self, status: int, times: int = 1, retry_after: float = 1.0) -> None:
        self._faults += [(status, retry_after)] * times

    def answer(self, request: RawRequest) -> Answer:
        path = request.target.split("?", 1)[0]
        body = json.loads(request.body) if request.body else None
        self.calls.append(Call(request.method, path, request.headers, body))
        if self._faults:
            status, retry_after = self._faults.pop(0)
            if status == 429:
                limited = {"message": "You are being rate limited.", "retry_after": retry_after,
                           "global": False}  # fmt: skip
                return 429, limited, {"Retry-After": str(retry_after)}
            return status, {"message": "Internal Server Error", "code": 0}, {}
        webhook = _WEBHOOK.match(path)
        if webhook is not None:
            key = f"{webhook.group(1)}/{webhook.group(2)}"
            if key not in self.webhooks:
                return 404, {"message": "Unknown Webhook", "code": 10015}, {}
            if request.method == "GET":
                return 200, {"id": webhook.group(1), "name": self.webhooks[key]}, {}
            self.messages.append({"webhook": webhook.group(1), **(body or {})})
            return 204, None, {}
        token = request.headers.get("authorization", "").removeprefix("Bot ")
        if token not in self.bots:
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        if path == "/users/@me":
            return 200, {"id": "42", "username": self.bots[token], "bot": True}, {}
        channel = _CHANNEL.match(path)
        if channel is None or request.method != "POST":
            return 404, {"message": "404: Not Found", "code": 0}, {}
        channel_id = channel.group(1)
        if channel_id in self.forbidden:
            return 403, {"message": "Missing Access", "code": 50001}, {}
        if channel_id in self.deleted:
            return 404, {"message": "Unknown Channel", "code": 10003}, {}
        assert body is not None
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and any(
            m.get("nonce") == nonce and m.get("channel") == channel_id for m in self.messages
        ):
            return 200, {"id": "1", "channel_id": channel_id}, {}
        self.messages.append({"channel": channel_id, **body})
        return 200, {"id": str(len(self.messages)), "channel_id": channel_id}, {}


@asynccontextmanager
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    async with serve_json(fake.answer) as base_url:
        fake.base_url = base_url
        yield fake
