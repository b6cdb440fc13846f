"""The live journal's tables: one row per live order, the venue's latest account reading
per trader, and the differences reconciliation found."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import ExactDecimal, UtcDateTime

# pending_submit: written, maybe sent (a crash here is resolved by asking the venue);
# submitted: the venue took it; rejected: the venue refused it or never saw it;
# unknown: sent, outcome unknown (resolved by asking, never by sending again).
SubmitState = Literal["pending_submit", "submitted", "rejected", "unknown"]
UNRESOLVED: tuple[SubmitState, ...] = ("pending_submit", "unknown")


class LiveOrder(Base):
    """The venue side of one ``trading_orders`` row, committed before it is sent."""

    __tablename__ = "trading_live_orders"
    __table_args__ = (Index("ix_trading_live_orders_state", "account_id", "submit_state"),)

    order_id: Mapped[int] = mapped_column(
        ForeignKey("trading_orders.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    venue: Mapped[str] = mapped_column(String(16))
    venue_client_id: Mapped[str] = mapped_column(String(32), unique=True)
    venue_order_id: Mapped[str | None] = mapped_column(String(64))
    submit_state: Mapped[SubmitState] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LiveAccountSnapshot(Base):
    """The venue's latest ``account()`` reading for one trader, and the ingest cursors."""

    __tablename__ = "trading_live_snapshots"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    venue: Mapped[str] = mapped_column(String(16))
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    available: Mapped[Decimal] = mapped_column(ExactDecimal)
    margin_used: Mapped[Decimal] = mapped_column(ExactDecimal)
    unrealized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
    # VenuePosition fields, Decimals as strings.
    positions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Fills and funding at or after these times are asked for on the next ingest.
    fills_since: Mapped[datetime] = mapped_column(UtcDateTime)
    funding_since: Mapped[datetime] = mapped_column(UtcDateTime)
    # Equity at the first reading of the UTC day: the daily-loss limit's baseline.
    day_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    day_start_equity: Mapped[Decimal | None] = mapped_column(ExactDecimal)


ReconciliationKind = Literal[
    "order_resolved",  # an unknown / pending_submit order's outcome, learned from the venue
    "order_never_arrived",  # the venue never saw it: rejected
    "external_order",  # an open order at the venue we did not send
    "order_missing",  # we think it is open, the venue does not list it
    "order_state",  # the venue's status or filled quantity differs from ours
    "missed_fills",  # fills we had not recorded (ingested now)
    "position_mismatch",  # the venue's position differs from what our fills add up to
    "daily_loss",  # the daily-loss limit was breached: paused (and flattened)
]


class ReconciliationEvent(Base):
    """One difference between our records and the venue's, as the owner reads it."""

    __tablename__ = "trading_reconciliation_events"
    __table_args__ = (Index("ix_trading_reconciliation_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ReconciliationKind] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
