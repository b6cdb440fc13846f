"""The decision log ("model chat"): one row per decision cycle, with everything needed
to audit it later — what triggered it, what the model saw and said, what the rules
decided and what was executed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import ExactDecimal, UtcDateTime


class DecisionRecord(Base):
    __tablename__ = "decision_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    # ok: decided (possibly "hold" or rejected by the rules); failed: no usable decision.
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[dict[str, Any]] = mapped_column(JSON)
    strategy_type: Mapped[str] = mapped_column(String(16))
    prompt_id: Mapped[int | None] = mapped_column(Integer)
    program_id: Mapped[int | None] = mapped_column(Integer)
    # The binding that ran; None for the trader's primary strategy. No foreign key: the
    # record outlives the binding it names.
    binding_id: Mapped[int | None] = mapped_column(Integer, index=True)
    model: Mapped[str | None] = mapped_column(String(128))
    rendered_prompt: Mapped[str | None] = mapped_column(Text)
    raw_output: Mapped[str | None] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # One entry per parsed decision: verdict, reason, order ids, execution status.
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    executed: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    realized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # What the decision was taken on, for analytics: the template variables the prompt
    # used (``variables``) and each symbol's market regime the program was given
    # (``regimes``). Null on records older than the column.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
