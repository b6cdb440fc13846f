"""Users' custom factors and the stored effectiveness of every factor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class CustomFactor(Base):
    __tablename__ = "custom_factors"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_custom_factors_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    expression: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


BUILTIN_SCOPE = "builtin"


def user_scope(user_id: int) -> str:
    return f"u{user_id}"


class FactorEffectiveness(Base):
    """The last effectiveness computed for one factor: built-ins are shared (scope
    ``builtin``), a custom factor's belongs to its owner (scope ``u<id>``)."""

    __tablename__ = "factor_effectiveness"
    __table_args__ = (
        UniqueConstraint("scope", "factor_name", name="uq_factor_effectiveness_scope_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    factor_name: Mapped[str] = mapped_column(String(64))
    # What it was computed on: interval, horizon, period, symbols, first and last bar.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
