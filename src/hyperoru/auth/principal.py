"""Immutable snapshots of who is calling, safe to cache and share between requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hyperoru.auth.models import SelectedExchange, User, UserSession


@dataclass(frozen=True, slots=True)
class Principal:
    id: int
    username: str
    email: str | None
    is_active: bool
    is_admin: bool
    selected_exchange: SelectedExchange
    created_at: datetime
    mfa_enabled: bool = False

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            is_active=user.is_active,
            is_admin=user.is_admin,
            selected_exchange=user.selected_exchange,
            created_at=user.created_at,
            mfa_enabled=user.mfa_enabled,
        )


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, record: UserSession) -> SessionInfo:
        return cls(
            id=record.id,
            user_id=record.user_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
        )
