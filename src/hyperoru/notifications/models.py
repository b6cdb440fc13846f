"""Bot configs, a user's notification preferences, chat bindings, one-time link codes,
inbound update ids already handled, and the outbox of messages to deliver."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import ExactDecimal, UtcDateTime


class BotConfig(Base):
    """One bot per user and platform. The token (and a Discord webhook URL, which holds a
    token too) is sealed in the vault; the Telegram webhook secret is kept as a SHA-256."""

    __tablename__ = "bot_configs"
    __table_args__ = (UniqueConstraint("user_id", "platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    token_hint: Mapped[str | None] = mapped_column(String(8))
    has_webhook: Mapped[bool] = mapped_column(Boolean)  # a Discord channel webhook is stored
    bot_username: Mapped[str | None] = mapped_column(String(120))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    guild_id: Mapped[str | None] = mapped_column(String(64))
    public_key: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))  # telegram: webhook | polling; discord: rest
    webhook_secret_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    poll_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    connected: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BotPreferences(Base):
    """What a user wants to hear about; absent means the defaults (everything but signals,
    no daily summary)."""

    __tablename__ = "bot_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean)
    trade: Mapped[bool] = mapped_column(Boolean)
    position_closed: Mapped[bool] = mapped_column(Boolean)
    signal: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[bool] = mapped_column(Boolean)
    paused: Mapped[bool] = mapped_column(Boolean)
    daily_summary: Mapped[bool] = mapped_column(Boolean)
    summary_time: Mapped[str] = mapped_column(String(5))  # HH:MM in time_zone
    time_zone: Mapped[str] = mapped_column(String(64))
    min_pnl_threshold: Mapped[Decimal] = mapped_column(ExactDecimal)
    # The local date of the last daily summary written, so it is written once a day.
    last_summary_on: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChatBinding(Base):
    """A chat or channel that receives a user's notifications, for some traders (an empty
    list: all of them). ``linked`` chats proved themselves with ``/start <code>`` and may
    run commands; a chat id set through the API only receives."""

    __tablename__ = "bot_chat_bindings"
    __table_args__ = (UniqueConstraint("user_id", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    trader_ids: Mapped[list[int]] = mapped_column(JSON)
    linked: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))  # active | disabled
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # A /pause or /resume waiting for its "yes": {"action", "trader_id", "expires_at"}.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LinkCode(Base):
    """A one-time code the owner sends as ``/start <code>``; stored as a SHA-256."""

    __tablename__ = "bot_link_codes"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    trader_ids: Mapped[list[int]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HandledUpdate(Base):
    """Inbound updates already acted on: Telegram re-sends until it gets a 2xx."""

    __tablename__ = "bot_handled_updates"

    config_id: Mapped[int] = mapped_column(
        ForeignKey("bot_configs.id", ondelete="CASCADE"), primary_key=True
    )
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(Base):
    """One message to one chat. Written in the transaction of its event; a worker claims it
    with a lease, sends it and marks it ``sent`` (or ``dead`` after a permanent failure)."""

    __tablename__ = "bot_outbox"
    __table_args__ = (Index("ix_bot_outbox_status_available_at", "status", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    binding_id: Mapped[int | None] = mapped_column(
        ForeignKey("bot_chat_bindings.id", ondelete="SET NULL")
    )
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer)
    available_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
