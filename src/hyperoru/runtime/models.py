"""Per-trader runtime state shared by every worker process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class TraderRuntime(Base):
    """Who runs a trader (a lease that expires if that worker dies), when its primary
    strategy runs next, and how many cycles in a row have failed (whichever strategy ran
    them: the failures pause the trader, not one binding)."""

    __tablename__ = "trader_runtime"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_cycle_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class BindingRuntime(Base):
    """When a scheduled binding runs next. The binding's trader lease (``TraderRuntime``)
    decides which worker runs it; this row is only its own clock."""

    __tablename__ = "binding_runtime"

    binding_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_bindings.id", ondelete="CASCADE"), primary_key=True
    )
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_cycle_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
