"""Telegram Bot API and Discord REST on plain httpx: the few calls we make, and what a
failure means for delivery (rate limited, permanent, or worth retrying)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx

# The shapes the platforms issue: a token of another shape is refused without asking.
TELEGRAM_TOKEN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{30,100}$")
DISCORD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{18,100}\.[A-Za-z0-9_-]{4,20}\.[A-Za-z0-9_-]{20,100}$")
DISCORD_WEBHOOK = re.compile(r"/webhooks/([0-9]{1,25})/([A-Za-z0-9_-]{20,200})/?$")
_NO_MENTIONS: dict[str, Any] = {"parse": []}

FailureKind = Literal["rate_limited", "permanent", "transient", "unauthorized"]


class PlatformError(Exception):
    """A call failed: ``rate_limited`` (wait ``retry_after`` s), ``permanent`` (the chat is
    gone or the bot blocked: retrying cannot help), ``unauthorized`` (the token is wrong)
    or ``transient`` (network, 5xx)."""

    def __init__(self, kind: FailureKind, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason[:300]
        self.retry_after = retry_after


def _retry_after(response: httpx.Response, body: Any) -> float:
    if isinstance(body, dict):
        for holder in (body.get("parameters"), body):
            if isinstance(holder, dict) and isinstance(holder.get("retry_after"), int | float):
                return float(holder["retry_after"])
    try:
        return float(response.headers.get("retry-after", "1"))
    except ValueError:
        return 1.0


def _failure(response: httpx.Response, platform: str) -> PlatformError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    described = body.get("description") or body.get("message") if isinstance(body, dict) else None
    reason = f"{platform} answered {response.status_code}" + (f": {described}" if described else "")
    status = response.status_code
    if status == 429:
        return PlatformError("rate_limited", reason, _retry_after(response, body))
    if status == 401:
        return PlatformError("unauthorized", reason)
    if status in (400, 403, 404):
        # Blocked by the user, kicked from the group, chat or channel deleted or unknown.
        return PlatformError("permanent", reason)
    return PlatformError("transient", reason)


async def _send(
    http: httpx.AsyncClient, method: str, url: str, platform: str, **kwargs: Any
) -> Any:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise PlatformError("transient", f"{platform} unreachable: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise _failure(response, platform)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise PlatformError("transient", f"{platform} sent an unreadable answer") from None


@dataclass(frozen=True, slots=True)
class Telegram:
    http: httpx.AsyncClient
    base_url: str

    async def call(self, token: str, method: str, payload: dict[str, Any] | None = None) -> Any:
        if not TELEGRAM_TOKEN.match(token):
            raise PlatformError("unauthorized", "not a Telegram bot token")
        body = await _send(
            self.http, "POST", f"{self.base_url}/bot{token}/{method}", "Telegram",
            json=payload or {},
        )  # fmt: skip
        if not isinstance(body, dict) or body.get("ok") is not True:
            raise PlatformError("transient", "Telegram answered without ok")
        return body.get("result")

    async def get_me(self, token: str) -> dict[str, Any]:
        result = await self.call(token, "getMe")
        return result if isinstance(result, dict) else {}

    async def send_message(self, token: str, chat_id: str, text: str) -> None:
        await self.call(
            token,
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": text,
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
            },
        )

    async def set_webhook(self, token: str, url: str, secret_token: str) -> None:
        await self.call(
            token,
            "setWebhook",
            {"url": url, "secret_token": secret_token, "allowed_updates": ["message"]},
        )

    async def delete_webhook(self, token: str) -> None:
        await self.call(token, "deleteWebhook", {"drop_pending_updates": False})

    async def get_updates(self, token: str, offset: int, wait_seconds: int) -> list[dict[str, Any]]:
        result = await self.call(
            token,
            "getUpdates",
            {"offset": offset, "timeout": wait_seconds, "allowed_updates": ["message"]},
        )
        return [u for u in result or [] if isinstance(u, dict)]


@dataclass(frozen=True, slots=True)
class Discord:
    http: httpx.AsyncClient
    base_url: str

    async def bot_user(self, token: str) -> dict[str, Any]:
        if not DISCORD_TOKEN.match(token):
            raise PlatformError("unauthorized", "not a Discord bot token")
        body = await _send(
            self.http, "GET", f"{self.base_url}/users/@me", "Discord",
            headers={"Authorization": f"Bot {token}"},
        )  # fmt: skip
        return body if isinstance(body, dict) else {}

    async def channel_message(self, token: str, channel_id: str, text: str, nonce: str) -> None:
        # ``enforce_nonce``: Discord drops a second message with the same nonce for a few
        # minutes, so a resend after an unknown outcome does not double it.
        await _send(
            self.http, "POST", f"{self.base_url}/channels/{channel_id}/messages", "Discord",
            headers={"Authorization": f"Bot {token}"},
            json={"content": text, "allowed_mentions": _NO_MENTIONS, "nonce": nonce,
                  "enforce_nonce": True},
        )  # fmt: skip

    def webhook_url(self, webhook: str) -> str:
        """Our own URL for a webhook the user pasted: only its id and token are taken,
        so a pasted URL can never point the server at another host."""
        found = DISCORD_WEBHOOK.search(webhook.split("?", 1)[0])
        if found is None:
            raise PlatformError("unauthorized", "not a Discord webhook URL")
        return f"{self.base_url}/webhooks/{found.group(1)}/{found.group(2)}"

    async def check_webhook(self, webhook: str) -> dict[str, Any]:
        body = await _send(self.http, "GET", self.webhook_url(webhook), "Discord")
        return body if isinstance(body, dict) else {}

    async def webhook_message(self, webhook: str, text: str) -> None:
        await _send(
            self.http, "POST", self.webhook_url(webhook), "Discord",
            json={"content": text, "allowed_mentions": _NO_MENTIONS},
        )  # fmt: skip
