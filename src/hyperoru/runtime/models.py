"""Runtime state shared by every worker process: per trader, who runs it and how its
cycles have gone; per strategy (``strategies.models.TraderStrategy``), when it runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class TraderRuntime(Base):
    """Who runs a trader (a lease that expires if that worker dies) and how many cycles
    in a row have failed (whichever of its strategies ran them: the failures pause the
    trader, not one strategy)."""

    __tablename__ = "trader_runtime"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class StrategyRuntime(Base):
    """When one scheduled strategy of a trader (primary or binding) runs next: the one
    clock of the scheduler. The trader's lease (``TraderRuntime``) decides which worker
    runs it."""

    __tablename__ = "strategy_runtime"

    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("trader_strategies.id", ondelete="CASCADE"), primary_key=True
    )
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_cycle_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set when a worker starts a cycle, cleared when the cycle ends: a marker left behind
    # by a worker that no longer holds the trader, or by one that no longer runs it, is a
    # cycle cut short, and the holder runs it again (``leases.start_due``).
    running_owner: Mapped[str | None] = mapped_column(String(128))
    running_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
