"""Signal definitions, pools, their evaluation state and trigger log, and bindings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime

# A binding is one kind of the trader strategies (strategies/models.py).
from hyperoru.strategies.models import StrategyBinding as StrategyBinding


class SignalDefinition(Base):
    __tablename__ = "signal_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignalPool(Base):
    __tablename__ = "signal_pools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    signal_ids: Mapped[list[int]] = mapped_column(JSON)
    symbols: Mapped[list[str]] = mapped_column(JSON)
    logic: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean)
    cooldown_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignalPoolRuntime(Base):
    """Which worker evaluates a pool (a lease, compare-and-set like ``trader_runtime``),
    the last combined condition per symbol (for edge-triggering across workers) and the
    last firing (for the cooldown)."""

    __tablename__ = "signal_pool_runtime"

    pool_id: Mapped[int] = mapped_column(
        ForeignKey("signal_pools.id", ondelete="CASCADE"), primary_key=True
    )
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    condition: Mapped[dict[str, bool]] = mapped_column(JSON)
    last_fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignalTrigger(Base):
    """One firing of a pool: which symbols, which signals with which values, and which
    traders were started."""

    __tablename__ = "signal_triggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(
        ForeignKey("signal_pools.id", ondelete="CASCADE"), index=True
    )
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    symbols: Mapped[list[str]] = mapped_column(JSON)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    account_ids: Mapped[list[int]] = mapped_column(JSON)
