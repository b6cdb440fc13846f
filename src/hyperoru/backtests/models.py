"""A program backtest: the inputs frozen at submit time and, once run, its long results.

The row shares its id with its ``jobs`` row, which holds the status, progress, error,
timestamps and the small result (metrics and fingerprint); the equity curve and the
trade list live here and are loaded only when one backtest is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class Backtest(Base):
    __tablename__ = "program_backtests"

    id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Programs are soft-deleted, so the id stays meaningful; no foreign key is needed.
    program_id: Mapped[int] = mapped_column(Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer)
    program_name: Mapped[str] = mapped_column(String(128))
    # The program as it was when the backtest was submitted: editing the program later
    # does not change what a retried job runs.
    code: Mapped[str] = mapped_column(Text)
    code_sha256: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The request as resolved (dates, defaults, symbols) and the replay's settings.
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    replay_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    dataset: Mapped[str] = mapped_column(String(64))
    equity_curve: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON, nullable=True, deferred=True
    )
    trades: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
