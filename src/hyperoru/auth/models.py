"""Users and their session tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hyperoru.db.base import Base
from hyperoru.db.types import UtcDateTime

SelectedExchange = Literal["hyperliquid", "binance"]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # NFKC + casefold: "Alice", "ALICE" and its full-width form are one name.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    selected_exchange: Mapped[SelectedExchange] = mapped_column(String(16), default="hyperliquid")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Two-factor (TOTP, auth/second_factor.py). The secret is sealed in vault_secrets; a
    # secret there without ``totp_enabled_at`` is an enrolment not yet confirmed.
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The time step of the last code accepted: a code (or an older one) is never good twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class RecoveryCode(Base):
    """One single-use recovery code of a user's two-factor enrolment, hashed like a
    password (argon2id); the code itself is shown once, when two-factor is enabled."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserSession(Base):
    """One issued token. Only its SHA-256 digest is stored; the token itself never is."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    client_name: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
