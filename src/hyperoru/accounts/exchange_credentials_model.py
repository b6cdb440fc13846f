"""A trader's connection to its exchange account: what may be shown of it.

The secrets (Hyperliquid agent key; Binance key and secret) are not here: they live
sealed in ``vault_secrets`` under the trader's record (``exchange_credentials.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime


class ExchangeCredential(Base):
    __tablename__ = "exchange_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One per trader: saving again replaces it.
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exchange: Mapped[str] = mapped_column(String(16))
    environment: Mapped[str] = mapped_column(String(16))
    # Public by nature: a Hyperliquid address, and the agent address derived from its key.
    master_address: Mapped[str | None] = mapped_column(String(42))
    agent_address: Mapped[str | None] = mapped_column(String(42))
    # Binance: the last 4 characters of the API key.
    api_key_hint: Mapped[str | None] = mapped_column(String(4))
    validated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # What a later check against the venue found wrong (sentences for the owner); empty
    # when usable. A save with problems is refused, so a fresh row has none.
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
