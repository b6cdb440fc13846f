"""A fake Telegram Bot API: a real HTTP server on loopback (``/bot<token>/<method>``).

It knows the bots the test adds (401 for any other token), records every call, keeps the
webhook a bot registered, hands out queued updates through ``getUpdates`` (409 while a
webhook is set, as Telegram does), and answers as the test scripts it: a chat that
blocked the bot (403), a deleted chat (400 "chat not found"), or the next calls failing
with 429 and ``retry_after`` or with 500.

    async with fake_telegram() as telegram:
        telegram.add_bot(TOKEN, "hyperoru_bot")
        settings = make_settings(telegram_api_url=telegram.base_url)
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

_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)$")


@dataclass(frozen=True)
class Call:
    token: str
    method: str
    payload: dict[str, Any]


@dataclass
class FakeTelegram:
    base_url: str = ""
    bots: dict[str, str] = field(default_factory=dict)  # token -> username
    calls: list[Call] = field(default_factory=list)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    updates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _faults: list[tuple[int, float | None]] = field(default_factory=list)

    def add_bot(self, token: str, username: str) -> None:
        self.bots[token] = username

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        self._faults += [(status, retry_after)] * times

    def queue_update(self, token: str, update: dict[str, Any]) -> None:
        self.updates.setdefault(token, []).append(update)

    def sent(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """The sendMessage payloads Telegram accepted, oldest first."""
        return [
            c.payload
            for c in self.calls
            if c.method == "sendMessage"
            and c.payload.get("accepted")
            and (chat_id is None or str(c.payload["chat_id"]) == chat_id)
        ]

    def answer(self, request: RawRequest) -> Answer:
        found = _PATH.match(request.target.split("?", 1)[0])
        if request.method != "POST" or found is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        token, method = found.groups()
        payload = json.loads(request.body or b"{}")
        call = Call(token, method, payload)
        self.calls.append(call)
        if token not in self.bots:
            return _error(401, "Unauthorized")
        if self._faults:
            status, retry_after = self._faults.pop(0)
            if status == 429:
                return _error(429, "Too Many Requests", {"retry_after": retry_after or 1})
            return _error(status, "Internal Server Error")
        return self._method(token, method, payload)

    def _method(self, token: str, method: str, payload: dict[str, Any]) -> Answer:
        if method == "getMe":
            return _ok({"id": 1, "is_bot": True, "username": self.bots[token]})
        if method == "setWebhook":
            self.webhooks[token] = payload
            return _ok(True)
        if method == "deleteWebhook":
            self.webhooks.pop(token, None)
            return _ok(True)
        if method == "getUpdates":
            if token in self.webhooks:
                return _error(409, "Conflict: can't use getUpdates while webhook is active")
            offset = int(payload.get("offset") or 0)
            pending = [u for u in self.updates.get(token, []) if u["update_id"] >= offset]
            return _ok(pending)
        if method == "sendMessage":
            chat = str(payload.get("chat_id"))
            if chat in self.blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            if chat in self.deleted:
                return _error(400, "Bad Request: chat not found")
            payload["accepted"] = True
            return _ok({"message_id": len(self.calls), "chat": {"id": chat}})
        return _error(404, "Not Found: method not found")


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}, {}


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body, {}


@asynccontextmanager
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    async with serve_json(fake.answer) as base_url:
        fake.base_url = base_url
        yield fake
