"""Conversations and their messages, a user's assistant model settings, and the tokens a
user's assistant spent per UTC day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class Conversation(Base):
    __tablename__ = "assistant_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    skill_ids: Mapped[list[int]] = mapped_column(JSON)
    message_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ConversationMessage(Base):
    __tablename__ = "assistant_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"), index=True
    )
    # user | assistant | tool
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    # For tool messages: the tool's name, arguments and outcome (the tool_call frame).
    tool_call: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AssistantModelSettings(Base):
    """Which model answers a user's assistant: none stored means ``builtin``."""

    __tablename__ = "assistant_model_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    base_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    has_api_key: Mapped[bool] = mapped_column(Boolean)
    api_key_hint: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # "Use trader N's model": the trader's provider, model, URL and key at each call.
    trader_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AssistantUsage(Base):
    __tablename__ = "assistant_usage"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # UTC date, YYYY-MM-DD
    tokens: Mapped[int] = mapped_column(Integer)
