"""AI traders and their trigger configuration."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import ExactDecimal, UtcDateTime
from hyperoru.exchanges.base import MarginModeName

AccountType = Literal["prompt", "program"]
AccountStatus = Literal["active", "paused", "error"]
ExecutionMode = Literal["paper", "live"]
Exchange = Literal["hyperliquid", "binance"]
HyperliquidEnvironment = Literal["mainnet", "testnet"]


class Account(Base):
    """One AI trader. The LLM API key is not here: it lives sealed in ``vault_secrets``."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(2000))
    account_type: Mapped[AccountType] = mapped_column(String(16))

    llm_provider: Mapped[str | None] = mapped_column(String(32))
    llm_model: Mapped[str | None] = mapped_column(String(128))
    llm_base_url: Mapped[str | None] = mapped_column(String(2048))
    has_api_key: Mapped[bool] = mapped_column(Boolean, default=False)
    api_key_hint: Mapped[str | None] = mapped_column(String(4))

    initial_capital: Mapped[Decimal] = mapped_column(ExactDecimal)
    current_cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    frozen_cash: Mapped[Decimal] = mapped_column(ExactDecimal)

    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[AccountStatus] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    auto_trading_enabled: Mapped[bool] = mapped_column(Boolean)
    show_on_dashboard: Mapped[bool] = mapped_column(Boolean)

    execution_mode: Mapped[ExecutionMode] = mapped_column(String(8))
    exchange: Mapped[Exchange] = mapped_column(String(16))
    hyperliquid_enabled: Mapped[bool] = mapped_column(Boolean)
    hyperliquid_environment: Mapped[HyperliquidEnvironment | None] = mapped_column(String(16))

    default_leverage: Mapped[int] = mapped_column(Integer)
    # The margin mode of this trader's orders unless an order names its own.
    margin_mode: Mapped[MarginModeName] = mapped_column(
        String(8), default="cross", server_default="cross"
    )
    max_leverage: Mapped[int] = mapped_column(Integer)
    max_position_notional: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # Live risk limits (trading/live/limits.py), checked before an order is sent.
    max_order_notional: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    max_daily_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    allowed_symbols: Mapped[list[str] | None] = mapped_column(JSON)
    flatten_on_daily_loss: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fee rates as fractions of notional; None means the venue's base-tier rates.
    taker_fee_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    maker_fee_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    max_open_positions: Mapped[int | None] = mapped_column(Integer)
    avatar_preset_id: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Soft delete: the row stays for the audit trail, the API answers 404 for it.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
