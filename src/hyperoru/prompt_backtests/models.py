"""A prompt backtest, its snapshots, and the cache of model answers they replay from.

The backtest row shares its id with its ``jobs`` row, which holds the status, progress,
error, timestamps and the small result (metrics and fingerprint); the counters of model
calls, the equity curve and the trade list live here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class PromptBacktest(Base):
    __tablename__ = "prompt_backtests"

    id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Traders and prompts are soft-deleted, so the ids stay meaningful without foreign keys.
    account_id: Mapped[int] = mapped_column(Integer)
    prompt_id: Mapped[int] = mapped_column(Integer)
    prompt_name: Mapped[str] = mapped_column(String(128))
    # The template as submitted: editing the prompt later does not change a retried run.
    template: Mapped[str] = mapped_column(Text)
    # The request as resolved (dates, defaults, symbols) and the replay's settings.
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    replay_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    dataset: Mapped[str] = mapped_column(String(64))
    # The model the run asks (never its key), recorded when the run starts.
    llm_provider: Mapped[str | None] = mapped_column(String(32))
    llm_model: Mapped[str | None] = mapped_column(String(128))
    sample_count: Mapped[int] = mapped_column(Integer)
    snapshots_done: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    cached_calls: Mapped[int] = mapped_column(Integer, default=0)
    failed_snapshots: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    equity_curve: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON, nullable=True, deferred=True
    )
    trades: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PromptBacktestSnapshot(Base):
    """One decision moment: what the model was shown, what it said, what came of it."""

    __tablename__ = "prompt_backtest_snapshots"
    __table_args__ = (Index("ix_prompt_backtest_snapshots_task", "backtest_id", "bar_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    backtest_id: Mapped[int] = mapped_column(ForeignKey("prompt_backtests.id", ondelete="CASCADE"))
    bar_index: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    # "ok" (decisions submitted) or "failed" (no answer, or an unusable one: nothing traded).
    status: Mapped[str] = mapped_column(String(16))
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    prompt_digest: Mapped[str] = mapped_column(String(64))
    rendered_prompt: Mapped[str] = mapped_column(Text)
    raw_output: Mapped[str | None] = mapped_column(Text, nullable=True)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)


class CachedResponse(Base):
    """A model's answer to one prompt, keyed by ``cache.prompt_digest`` (which covers
    the user, provider, model, base URL, system prompt and rendered prompt). Never a key."""

    __tablename__ = "prompt_response_cache"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    llm_provider: Mapped[str | None] = mapped_column(String(32))
    llm_model: Mapped[str | None] = mapped_column(String(128))
    raw_output: Mapped[str] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
