"""What a trader runs: one row per strategy in ``trader_strategies``.

A trader has one *primary* strategy (``/api/account/{id}/strategy``: the symbols it trades
and, by default, how it decides) and any number of *bindings* (``/api/bindings``: another
prompt or program, its own schedule, its own signal pools). Both are the same thing to the
runtime — a strategy with a schedule, a trigger and a state — so they are one table, one
clock table (``runtime.models.StrategyRuntime``) and one scheduler query. The two API
shapes are two views of it: ``AccountStrategy`` (``kind = 'primary'``, at most one per
trader, ``enabled`` is its ``is_active``) and ``StrategyBinding`` (``kind = 'binding'``).
Queries through either class only ever see their own kind.

Whichever strategy runs, the symbols and the risk limits are the trader's own (the primary
row's ``symbols``; a binding's stay empty), so a binding changes *how* a trader decides,
never what it may trade or how much.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, synonym

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime

PRIMARY = "primary"
BINDING = "binding"


class TraderStrategy(Base):
    __tablename__ = "trader_strategies"
    __table_args__ = (
        Index(
            "uq_trader_strategies_primary",
            "account_id",
            unique=True,
            sqlite_where=text("kind = 'primary'"),
            postgresql_where=text("kind = 'primary'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    strategy_type: Mapped[str] = mapped_column(String(16))  # "prompt" | "program"
    prompt_id: Mapped[int | None] = mapped_column(Integer)
    program_id: Mapped[int | None] = mapped_column(Integer)
    symbols: Mapped[list[str]] = mapped_column(JSON, default=list)
    signal_pool_ids: Mapped[list[int]] = mapped_column(JSON)
    trigger_interval: Mapped[int] = mapped_column(Integer)
    scheduled_trigger_enabled: Mapped[bool] = mapped_column(Boolean)
    params_override: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"polymorphic_on": "kind"}

    @property
    def is_primary(self) -> bool:
        return self.kind == PRIMARY


class AccountStrategy(TraderStrategy):
    """The trader's primary strategy. The prompt, program and pool ids are checked
    against the owner when saved (the routes do it; see docs/API.md)."""

    __mapper_args__ = {"polymorphic_identity": PRIMARY}

    enabled = synonym("is_active")


class StrategyBinding(TraderStrategy):
    """One more strategy of a trader (``/api/bindings``)."""

    __mapper_args__ = {"polymorphic_identity": BINDING}


async def primary_strategy(session: AsyncSession, account_id: int) -> AccountStrategy | None:
    return await session.scalar(
        select(AccountStrategy).where(AccountStrategy.account_id == account_id)
    )
