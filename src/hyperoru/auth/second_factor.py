"""Two-factor for users (TOTP): enrolment, recovery codes, and the fresh-code check that
risky routes (exchange credentials, switching a trader to live) put in front of a change.

Each public method owns its transaction. A code is accepted once: the time step of the
last accepted code is stored and only a later step passes, claimed with one conditional
UPDATE so that two requests racing with the same code cannot both win. Wrong passwords
count as failed logins; wrong codes count in their own per-account bucket
(``throttle.SECOND_FACTOR_FAILURES``), which a login does not clear. Failures expire
with the window; a success does not clear them, so the owner's own codes never reopen
guessing for someone else holding the token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.auth import passwords, recovery_codes, totp
from hyperoru.auth.models import RecoveryCode, User
from hyperoru.auth.principal import Principal
from hyperoru.auth.session_changes import SessionChanges
from hyperoru.auth.throttle import LoginThrottle
from hyperoru.db.dml import rows_changed
from hyperoru.errors import ApiError, unauthorized
from hyperoru.offload import off_loop
from hyperoru.vault import store
from hyperoru.vault.cipher import SecretAddress, SecretBox

log = logging.getLogger("hyperoru.auth")

SECRET_SCOPE = "user"  # noqa: S105 - a vault scope, not a secret
TOTP_SECRET_FIELD = "totp_secret"  # noqa: S105 - a vault field name


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str


def totp_secret_address(user_id: int) -> SecretAddress:
    return SecretAddress(
        user_id=user_id, scope=SECRET_SCOPE, scope_id=user_id, field=TOTP_SECRET_FIELD
    )


def mfa_required() -> ApiError:
    return ApiError(
        403,
        "MFA_REQUIRED",
        "This needs two-factor authentication: enrol with POST /api/users/mfa/totp/setup "
        "and /enable first",
    )


def invalid_totp() -> ApiError:
    return ApiError(
        403,
        "INVALID_TOTP",
        "The two-factor code is missing, wrong or already used; send the current code "
        "from your authenticator",
    )


def _wrong_password() -> ApiError:
    return ApiError(403, "INVALID_CURRENT_PASSWORD", "Current password is incorrect")


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """The two-factor use cases over one request's session."""

    session: AsyncSession
    box: SecretBox
    # Wrong passwords (the login bucket) and wrong codes (their own bucket).
    logins: LoginThrottle
    codes: LoginThrottle
    clock: Callable[[], datetime]
    changes: SessionChanges | None = None

    # --- enrolment ---------------------------------------------------------------------

    async def setup(self, *, user_id: int, password: str) -> TotpSetup:
        """A new secret, pending until ``enable`` confirms a code from it; a pending one is
        replaced. 409 MFA_ALREADY_ENABLED when enrolled; 403 INVALID_CURRENT_PASSWORD."""
        user = await self._user(user_id)
        if user.mfa_enabled:
            raise ApiError(
                409,
                "MFA_ALREADY_ENABLED",
                "Two-factor is already enabled; disable it first to enrol another device",
            )
        await self._check_password(user, password)
        secret = totp.new_secret()
        await store.put_secret(self.session, self.box, totp_secret_address(user.id), secret)
        user.totp_last_step = None
        await self.session.commit()
        log.info("two-factor setup started", extra={"event": "mfa_setup", "user_id": user.id})
        return TotpSetup(
            secret=secret, otpauth_uri=totp.provisioning_uri(secret, account_name=user.username)
        )

    async def enable(self, *, user_id: int, code: str) -> list[str]:
        """Confirm the pending secret with a current code; the new recovery codes (shown
        this once). 409 MFA_ALREADY_ENABLED / MFA_NOT_SET_UP; 403 INVALID_TOTP."""
        key = self._key(user_id)
        await self.codes.ensure_allowed(key)
        user = await self._user(user_id)
        if user.mfa_enabled:
            raise ApiError(409, "MFA_ALREADY_ENABLED", "Two-factor is already enabled")
        secret = await store.read_secret(self.session, self.box, totp_secret_address(user.id))
        if secret is None:
            raise ApiError(
                409,
                "MFA_NOT_SET_UP",
                "No two-factor setup is pending: call POST /api/users/mfa/totp/setup first",
            )
        step = totp.matching_step(secret, code, self.clock())
        if step is None:
            await self._code_failed(key, user.id)
        codes = recovery_codes.new_codes()
        hashes = [await off_loop(recovery_codes.hash_code, c) for c in codes]
        now = self.clock()
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        self.session.add_all(
            RecoveryCode(user_id=user.id, code_hash=h, created_at=now) for h in hashes
        )
        user.totp_enabled_at = now
        user.totp_last_step = step
        user.updated_at = now
        await self.session.commit()
        await self._changed(user.id)
        log.info("two-factor enabled", extra={"event": "mfa_enabled", "user_id": user.id})
        return codes

    async def disable(self, *, user_id: int, password: str, code: str) -> None:
        """Needs the password and a current code or an unused recovery code.
        409 MFA_NOT_ENABLED; 403 INVALID_CURRENT_PASSWORD / INVALID_TOTP."""
        key = self._key(user_id)
        await self.codes.ensure_allowed(key)
        user = await self._user(user_id)
        if not user.mfa_enabled:
            raise ApiError(409, "MFA_NOT_ENABLED", "Two-factor is not enabled")
        await self._check_password(user, password)
        if totp.normalized_code(code) is not None:
            await self._claim_totp(user, code, key)
        elif not await self._spend_recovery_code(user.id, code):
            await self._code_failed(key, user.id)
        await store.delete_secret(self.session, totp_secret_address(user.id))
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.updated_at = self.clock()
        await self.session.commit()
        await self._changed(user.id)
        log.info("two-factor disabled", extra={"event": "mfa_disabled", "user_id": user.id})

    # --- the check other routes use ----------------------------------------------------

    async def require_fresh_totp(self, user: Principal | int, code: str | None) -> None:
        """Pass only with a current TOTP code not used before; commits the claim at once,
        so the code stays spent whatever the caller does next.

        403 MFA_REQUIRED when the user has no two-factor; 403 INVALID_TOTP when the code
        is missing, wrong or reused; 429 LOGIN_THROTTLED after too many wrong codes.
        Recovery codes are not accepted here: they only disable two-factor."""
        user_id = user if isinstance(user, int) else user.id
        key = self._key(user_id)
        await self.codes.ensure_allowed(key)
        row = await self._user(user_id)
        if not row.mfa_enabled:
            raise mfa_required()
        if not code:
            raise invalid_totp()
        await self._claim_totp(row, code, key)
        await self.session.commit()

    # --- parts -------------------------------------------------------------------------

    @staticmethod
    def _key(user_id: int) -> str:
        return LoginThrottle.key_for(user_id, "")

    async def _user(self, user_id: int) -> User:
        user = await self.session.scalar(
            select(User).where(User.id == user_id).execution_options(populate_existing=True)
        )
        if user is None or not user.is_active:
            raise unauthorized("INVALID_TOKEN", "Session token has been revoked")
        return user

    async def _check_password(self, user: User, password: str) -> None:
        key = self.logins.key_for(user.id, user.username_key)
        await self.logins.ensure_allowed(key)
        ok = len(password) <= passwords.MAX_LENGTH and await off_loop(
            passwords.verify_password, user.password_hash, password
        )
        if not ok:
            await self.logins.record_failure(key)
            log.info("two-factor password refused", extra={"event": "mfa_password_refused"})
            raise _wrong_password()

    async def _code_failed(self, key: str, user_id: int) -> NoReturn:
        await self.codes.record_failure(key)
        log.info("two-factor code refused", extra={"event": "totp_refused", "user_id": user_id})
        raise invalid_totp()

    async def _claim_totp(self, user: User, code: str, key: str) -> None:
        secret = await store.read_secret(self.session, self.box, totp_secret_address(user.id))
        step = totp.matching_step(secret, code, self.clock()) if secret else None
        if step is None:
            await self._code_failed(key, user.id)
        claimed = await rows_changed(
            self.session,
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False),
        )
        if claimed != 1:  # this step (or a later one) was used already
            await self._code_failed(key, user.id)

    async def _spend_recovery_code(self, user_id: int, code: str) -> bool:
        typed = recovery_codes.normalized(code)
        if typed is None:
            return False
        unused = (
            await self.session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
                )
            )
        ).all()
        for candidate in unused:
            if await off_loop(recovery_codes.matches, candidate.code_hash, typed):
                spent = await rows_changed(
                    self.session,
                    update(RecoveryCode)
                    .where(RecoveryCode.id == candidate.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=self.clock())
                    .execution_options(synchronize_session=False),
                )
                return spent == 1
        return False

    async def _changed(self, user_id: int) -> None:
        if self.changes is not None:
            await self.changes.user_changed(user_id=user_id)
