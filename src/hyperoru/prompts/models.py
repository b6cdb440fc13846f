"""Prompt templates. Built-in templates are rows too (``user_id`` null, ``system_key``
set), written from code at start-up, so every query treats both kinds alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class PromptTemplate(Base):
    __tablename__ = "prompt_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Null for built-in templates, which belong to nobody and are read by everybody.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    system_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(2000))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Soft delete: traders and decision records may still name the id; the API answers 404.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_system(self) -> bool:
        return self.system_key is not None
