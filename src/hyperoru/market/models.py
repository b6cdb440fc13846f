"""Stored candles: one row per (dataset, symbol, interval, open time)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import ExactDecimal, UtcDateTime


class StoredCandle(Base):
    __tablename__ = "market_candles"
    __table_args__ = (
        UniqueConstraint(
            "exchange", "symbol", "interval", "open_time", name="uq_market_candles_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The provider's dataset (e.g. "hyperliquid-mainnet", "sim-42"), not only the venue:
    # candles of testnet and mainnet, or of two sim seeds, must never mix.
    exchange: Mapped[str] = mapped_column(String(40))
    symbol: Mapped[str] = mapped_column(String(32))
    interval: Mapped[str] = mapped_column(String(8))
    open_time: Mapped[datetime] = mapped_column(UtcDateTime)
    open: Mapped[Decimal] = mapped_column(ExactDecimal)
    high: Mapped[Decimal] = mapped_column(ExactDecimal)
    low: Mapped[Decimal] = mapped_column(ExactDecimal)
    close: Mapped[Decimal] = mapped_column(ExactDecimal)
    volume: Mapped[Decimal] = mapped_column(ExactDecimal)
    # Imported candles only (see Candle.funding_rate); NULL for the market's.
    funding_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)


class KlineBackfill(Base):
    """A backfill's public number: backfills count 1, 2, 3… on their own (contract §7),
    while their state lives in the shared jobs table (``job_id``)."""

    __tablename__ = "kline_backfills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
