"""Stored programs: Python source owned by one user, run only in the sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class Program(Base):
    __tablename__ = "trading_programs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(2000))
    code: Mapped[str] = mapped_column(Text)
    # Handed to ``Strategy.init(params)``; plain JSON only.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The programs page's switch: a disabled program keeps its traders' cycles from running
    # it (each such cycle is recorded as failed, saying so); test runs and backtests, which
    # a user starts by hand, still run it.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Soft delete: traders and decision records may still name the id; the API answers 404.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
