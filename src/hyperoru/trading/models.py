"""The paper ledger's tables: orders, fills, funding, liquidations, equity, engine state."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import ExactDecimal, UtcDateTime


class TradingOrder(Base):
    """An order of the manual or automatic flow; ``status`` follows engine/lifecycle.py."""

    __tablename__ = "trading_orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id", name="uq_trading_orders_client_id"),
        Index("ix_trading_orders_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_order_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    leverage: Mapped[int] = mapped_column(Integer)
    # Resolved when the order is recorded: the order's own, else the trader's default.
    margin_mode: Mapped[str] = mapped_column(String(8), default="cross", server_default="cross")
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    time_in_force: Mapped[str] = mapped_column(String(4))
    take_profit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_loss_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    status: Mapped[str] = mapped_column(String(20))
    filled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    average_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    reject_code: Mapped[str | None] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # What caused the order (docs/ANALYTICS.md, "Attribution"): ``ai_decision``,
    # ``signal`` or ``manual``; the decision record (set when the cycle's record is
    # written) and the strategy that ran. Null on orders older than these columns. No
    # foreign keys: the record outlives the prompt, program or binding it names.
    trigger_type: Mapped[str | None] = mapped_column(String(16))
    decision_id: Mapped[int | None] = mapped_column(Integer, index=True)
    strategy_type: Mapped[str | None] = mapped_column(String(16))
    prompt_id: Mapped[int | None] = mapped_column(Integer)
    program_id: Mapped[int | None] = mapped_column(Integer)
    binding_id: Mapped[int | None] = mapped_column(Integer)


class TradingFill(Base):
    """One execution. ``(account_id, fill_id)`` is the engine's own numbering, so applying
    the same engine event twice is refused by the database instead of doubling a trade."""

    __tablename__ = "trading_fills"
    __table_args__ = (
        UniqueConstraint("account_id", "fill_id", name="uq_trading_fills_fill"),
        UniqueConstraint("account_id", "venue_fill_id", name="uq_trading_fills_venue_fill"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    fill_id: Mapped[int] = mapped_column(Integer)
    # The stored order this fill belongs to: a trigger's fill points at its parent order,
    # a liquidation's at none.
    order_id: Mapped[int | None] = mapped_column(Integer)
    engine_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
    liquidity: Mapped[str] = mapped_column(String(5))
    is_liquidation: Mapped[bool] = mapped_column(Boolean)
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    # A live venue's own fill id (Hyperliquid ``tid``): ingesting it twice is refused.
    venue_fill_id: Mapped[str | None] = mapped_column(String(64))


class FundingPayment(Base):
    """One hourly settlement; ``payment`` > 0 was paid by the trader, < 0 received."""

    __tablename__ = "trading_funding_payments"
    __table_args__ = (
        UniqueConstraint("account_id", "symbol", "time", name="uq_trading_funding_hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    position_size: Mapped[Decimal] = mapped_column(ExactDecimal)
    mark_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    payment: Mapped[Decimal] = mapped_column(ExactDecimal)


class Liquidation(Base):
    """The account fell below maintenance margin; its fills are flagged ``is_liquidation``."""

    __tablename__ = "trading_liquidations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    maintenance_margin: Mapped[Decimal] = mapped_column(ExactDecimal)
    symbols: Mapped[list[str]] = mapped_column(JSON)


class EquitySnapshot(Base):
    """The asset curve: one row per trader per minute (``taken_at`` on the minute)."""

    __tablename__ = "trading_equity_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "taken_at", name="uq_trading_equity_minute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    positions_value: Mapped[Decimal] = mapped_column(ExactDecimal)


class PaperLedger(Base):
    """The engine's ``AccountState`` of one trader, serialised (Decimals as strings).

    This row is what the paper client locks (``FOR UPDATE`` on PostgreSQL) for every state
    change, so it is also the serialisation point between API calls and the monitor.
    """

    __tablename__ = "trading_ledgers"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Positions, resting orders or triggers: the monitor only visits these.
    has_exposure: Mapped[bool] = mapped_column(Boolean, index=True)
    # The market time the state was last brought up to (catch-up starts here).
    market_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
