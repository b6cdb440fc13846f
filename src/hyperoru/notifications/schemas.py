"""Request and response bodies of /api/bot and /api/bots."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from hyperoru.api_types import JsonDecimal, RequestModel, UtcTime

PlatformName = Literal["telegram", "discord"]


def _number_as_text(value: object) -> object:
    # Chat ids are numbers on Telegram and snowflakes on Discord; clients send either.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# Tokens go into a URL path (Telegram) or a header (Discord): printable ASCII only.
BotToken = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[!-~]+$")]
IdText = Annotated[str, BeforeValidator(_number_as_text), Field(min_length=1, max_length=64)]


class ConfigIn(RequestModel):
    """``POST /api/bot/config``: a bot for one platform (replaces the previous one).
    Discord takes a bot token, a channel webhook URL, or both."""

    platform: PlatformName
    bot_token: BotToken | None = None
    chat_id: IdText | None = None
    webhook_url: str | None = Field(default=None, min_length=1, max_length=500)
    guild_id: IdText | None = None
    public_key: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class TelegramIn(RequestModel):
    """``POST /api/bots/telegram`` (the feature page's spelling); ``webhook_url`` and
    ``user_id`` are accepted and ignored: the server builds its own webhook URL from
    ``HYPERORU_PUBLIC_URL`` and the bot belongs to the caller."""

    bot_token: BotToken
    chat_id: IdText | None = None


class DiscordIn(RequestModel):
    """``POST /api/bots/discord``."""

    bot_token: BotToken | None = None
    guild_id: IdText | None = None
    chat_id: IdText | None = None
    webhook_url: str | None = Field(default=None, min_length=1, max_length=500)
    public_key: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class ConfigOut(BaseModel):
    platform: PlatformName
    connected: bool
    chat_id: str | None = None
    bot_token: str | None = None  # always masked
    bot_username: str | None = None
    guild_id: str | None = None
    mode: str | None = None
    webhook_url: str | None = None  # masked too: a Discord webhook URL holds a token
    interactions_url: str | None = None


class StatusIn(RequestModel):
    enabled: bool


class OkOut(BaseModel):
    status: Literal["ok"] = "ok"


class QueuedOut(BaseModel):
    """A test message was queued for each of ``queued`` chats; the delivery worker sends
    them (``GET /api/bot/outbox`` shows how it went)."""

    platform: PlatformName
    queued: int


class NotificationConfig(BaseModel):
    """The documented four fields, and the rest of the preferences."""

    enabled: bool = True
    trade_notifications: bool = True
    position_closed_notifications: bool = True
    signal_notifications: bool = False
    error_notifications: bool = True
    paused_notifications: bool = True
    daily_summary: bool = False
    daily_summary_time: str = "20:00"
    time_zone: str = "UTC"
    min_pnl_threshold: JsonDecimal = Decimal(0)


class NotificationConfigIn(RequestModel):
    """Every field optional: what is sent changes, the rest stays."""

    trade_notifications: bool | None = None
    position_closed_notifications: bool | None = None
    signal_notifications: bool | None = None
    error_notifications: bool | None = None
    paused_notifications: bool | None = None
    daily_summary: bool | None = None
    daily_summary_time: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)
    min_pnl_threshold: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"))


class BindingIn(RequestModel):
    """A chat that receives notifications (only; commands need ``/start <code>``)."""

    platform: PlatformName
    chat_id: IdText
    trader_ids: list[int] = Field(default_factory=list, max_length=100)


class BindingUpdate(RequestModel):
    trader_ids: list[int] | None = Field(default=None, max_length=100)
    enabled: bool | None = None


class BindingOut(BaseModel):
    id: int
    platform: PlatformName
    chat_id: str
    trader_ids: list[int]
    linked: bool
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    created_at: UtcTime
    updated_at: UtcTime


class LinkCodeIn(RequestModel):
    platform: PlatformName = "telegram"
    trader_ids: list[int] = Field(default_factory=list, max_length=100)


class LinkCodeOut(BaseModel):
    code: str
    platform: PlatformName
    command: str
    expires_at: UtcTime


class OutboxOut(BaseModel):
    id: int
    platform: PlatformName
    chat_id: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: UtcTime
    sent_at: UtcTime | None


class AllowedMentions(BaseModel):
    parse: list[str] = Field(default_factory=list)


class InteractionData(BaseModel):
    content: str
    allowed_mentions: AllowedMentions = Field(default_factory=AllowedMentions)
    flags: int = 64  # only the user who ran the command sees the answer


class InteractionOut(BaseModel):
    """Discord's interaction response: 1 PONG, 4 a message."""

    type: int
    data: InteractionData | None = None
