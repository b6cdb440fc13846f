"""Use cases of /api/users: each public function owns its transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.auth import passwords
from hyperoru.auth.identity import email_key, normalize_email, normalize_username, username_key
from hyperoru.auth.models import SelectedExchange, User, UserSession
from hyperoru.auth.principal import Principal, SessionInfo
from hyperoru.auth.session_changes import SessionChanges
from hyperoru.auth.throttle import LoginThrottle
from hyperoru.auth.token_cache import TokenCache
from hyperoru.auth.tokens import looks_like_token, new_token, token_digest
from hyperoru.db.dml import rows_changed
from hyperoru.errors import ApiError, forbidden, not_found, unauthorized
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.auth")

LAST_USED_WRITE_INTERVAL = timedelta(seconds=60)

# Built once: every authenticated request runs it, and building the statement each time
# (operators, join, cache key) cost about an eighth of the lookup (bench/README.md).
_SESSION_AND_USER_BY_DIGEST = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_digest == bindparam("digest"))
)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    session: UserSession


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so both paths cost one argon2 run.
    return passwords.hash_password("hyperoru-timing-equaliser-not-a-password")


def _weak(message: str, field: str = "password") -> ApiError:
    """``field``: the request's name for the refused password, so a form can point at it."""
    return ApiError(422, "WEAK_PASSWORD", message, details={"field": field})


async def _user_by_id(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise unauthorized("INVALID_TOKEN", "Session token has been revoked")
    return user


async def _ensure_unique(
    session: AsyncSession, *, name_key: str | None, mail_key: str | None, exclude_id: int | None
) -> None:
    if name_key is not None:
        query = select(User.id).where(User.username_key == name_key)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if await session.scalar(query) is not None:
            raise ApiError(409, "USERNAME_TAKEN", "That username is already taken")
    if mail_key is not None:
        query = select(User.id).where(User.email_key == mail_key)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if await session.scalar(query) is not None:
            raise ApiError(409, "EMAIL_TAKEN", "That email is already registered")


async def _commit_unique(session: AsyncSession) -> None:
    """Commit, turning a lost race on a unique column into the same 409 as the pre-check."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        text = str(exc.orig).lower()
        if "email" in text:
            raise ApiError(409, "EMAIL_TAKEN", "That email is already registered") from None
        raise ApiError(409, "USERNAME_TAKEN", "That username is already taken") from None


async def register_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    email: str | None = None,
    is_admin: bool = False,
) -> User:
    """Create an active user. Raises 400/409/422 ApiErrors; commits."""
    name = normalize_username(username)
    mail = normalize_email(email) if email else None
    problem = passwords.weakness(password, username=name, email=mail)
    if problem:
        raise _weak(problem)
    await _ensure_unique(
        session,
        name_key=username_key(name),
        mail_key=email_key(mail) if mail else None,
        exclude_id=None,
    )
    now = utcnow()
    user = User(
        username=name,
        username_key=username_key(name),
        email=mail,
        email_key=email_key(mail) if mail else None,
        password_hash=passwords.hash_password(password),
        is_active=True,
        is_admin=is_admin,
        selected_exchange="hyperliquid",
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await _commit_unique(session)
    log.info("user registered", extra={"event": "user_registered", "user_id": user.id})
    return user


async def _find_login_user(
    session: AsyncSession, *, email: str | None, username: str | None, login: str | None
) -> tuple[User | None, str]:
    if email:
        key = email_key(email)
        return await session.scalar(select(User).where(User.email_key == key)), key
    if username:
        key = username_key(username)
        return await session.scalar(select(User).where(User.username_key == key)), key
    key = email_key(login or "")
    user = await session.scalar(
        select(User).where(or_(User.email_key == key, User.username_key == key))
    )
    return user, key


async def authenticate_password(
    session: AsyncSession,
    throttle: LoginThrottle,
    *,
    password: str,
    email: str | None = None,
    username: str | None = None,
    login: str | None = None,
) -> User:
    """Check credentials with equal cost whether or not the user exists.

    Raises 401 INVALID_CREDENTIALS or 429 LOGIN_THROTTLED.
    """
    user, identifier = await _find_login_user(session, email=email, username=username, login=login)
    key = throttle.key_for(user.id if user else None, identifier)
    await throttle.ensure_allowed(key)
    if len(password) > passwords.MAX_LENGTH:
        ok = False  # never hash an oversized input; no account has such a password
    else:
        ok = passwords.verify_password(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.is_active:
        await throttle.record_failure(key)
        log.info("login failed", extra={"event": "login_failed"})
        raise unauthorized("INVALID_CREDENTIALS", "Invalid credentials")
    await throttle.reset(key)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        await session.commit()
    return user


async def issue_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    client_name: str | None,
    client: ClientInfo,
    changes: SessionChanges | None = None,
) -> IssuedSession:
    """Mint a token for ``user``; past the per-user cap the least recently used is revoked."""
    now = utcnow()
    active = (
        await session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(func.coalesce(UserSession.last_used_at, UserSession.created_at))
        )
    ).all()
    overflow = len(active) - settings.max_sessions_per_user + 1
    evicted = active[: max(0, overflow)]
    for stale in evicted:
        stale.revoked_at = now
    token = new_token()
    record = UserSession(
        user_id=user.id,
        token_digest=token_digest(token),
        client_name=client_name,
        ip=client.ip,
        user_agent=(client.user_agent or "")[:256] or None,
        created_at=now,
        last_used_at=None,
        expires_at=now + timedelta(days=settings.session_ttl_days),
    )
    session.add(record)
    await session.commit()
    if evicted and changes is not None:
        await changes.sessions_revoked(user_id=user.id, session_ids=[s.id for s in evicted])
    log.info("login", extra={"event": "login_succeeded", "user_id": user.id})
    return IssuedSession(token=token, session=record)


async def _load_session(session: AsyncSession, digest: str) -> tuple[Principal, SessionInfo] | None:
    row = (await session.execute(_SESSION_AND_USER_BY_DIGEST, {"digest": digest})).first()
    if row is None:
        return None
    record, user = row
    if record.revoked_at is not None:
        return None
    return Principal.of(user), SessionInfo.of(record)


async def resolve_token(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    token: str,
    cache: TokenCache | None = None,
) -> tuple[Principal, SessionInfo]:
    """Who is behind a presented token, or 401.

    While the token is cached this touches no database at all; otherwise one indexed read.
    A write happens only when ``last_used_at`` is over a minute old.
    """
    if not looks_like_token(token):
        raise unauthorized("INVALID_TOKEN", "Invalid session token")
    digest = token_digest(token)

    async def load() -> tuple[Principal, SessionInfo] | None:
        async with sessions() as session:
            return await _load_session(session, digest)

    found = await (cache.lookup(digest, load) if cache is not None else load())
    if found is None:
        raise unauthorized("INVALID_TOKEN", "Invalid session token")
    principal, info = found
    now = utcnow()
    if not principal.is_active:
        raise unauthorized("INVALID_TOKEN", "Session token has been revoked")
    if info.expires_at <= now:
        raise unauthorized("TOKEN_EXPIRED", "Session token has expired; log in again")
    if settings.session_idle_days is not None:
        last = info.last_used_at or info.created_at
        if now - last > timedelta(days=settings.session_idle_days):
            raise unauthorized("TOKEN_EXPIRED", "Session token expired after inactivity")
    stale = info.last_used_at is None or now - info.last_used_at >= LAST_USED_WRITE_INTERVAL
    # One write per session at a time: the requests in flight with it skip theirs.
    if stale and (cache is None or cache.claim_touch(info.id)):
        written: datetime | None = None
        try:
            async with sessions() as session:
                await session.execute(
                    update(UserSession).where(UserSession.id == info.id).values(last_used_at=now)
                )
                await session.commit()
            written = now
        finally:
            if cache is not None:
                cache.touched(info.id, digest, written)
    return principal, info


async def revoke_session(
    session: AsyncSession, *, user_id: int, session_id: int, changes: SessionChanges | None = None
) -> None:
    """Revoke one of the user's own sessions; anyone else's id is 404."""
    record = await session.scalar(
        select(UserSession).where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
        )
    )
    if record is None:
        raise not_found("session")
    record.revoked_at = utcnow()
    await session.commit()
    if changes is not None:
        await changes.sessions_revoked(user_id=user_id, session_ids=[session_id])
    log.info("session revoked", extra={"event": "session_revoked", "user_id": user_id})


async def revoke_all_sessions(
    session: AsyncSession,
    *,
    user_id: int | None,
    except_session_id: int | None = None,
    changes: SessionChanges | None = None,
) -> int:
    """Revoke every live session of one user (or of everyone when ``user_id`` is None)."""
    query = update(UserSession).where(UserSession.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    if except_session_id is not None:
        query = query.where(UserSession.id != except_session_id)
    revoked = await rows_changed(session, query.values(revoked_at=utcnow()))
    await session.commit()
    if changes is not None:
        await changes.user_revoked(user_id=user_id)
    return revoked


async def list_sessions(session: AsyncSession, *, user_id: int) -> list[UserSession]:
    now = utcnow()
    rows = await session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
        .order_by(UserSession.id)
    )
    return list(rows.all())


async def change_password(
    session: AsyncSession,
    throttle: LoginThrottle,
    *,
    user_id: int,
    current_session_id: int,
    current_password: str,
    new_password: str,
    changes: SessionChanges | None = None,
) -> None:
    """Replace the password and revoke every other session.

    A wrong current password counts like a failed login: 403, then 429 when throttled.
    """
    user = await _user_by_id(session, user_id)
    key = throttle.key_for(user.id, user.username_key)
    await throttle.ensure_allowed(key)
    ok = len(current_password) <= passwords.MAX_LENGTH and passwords.verify_password(
        user.password_hash, current_password
    )
    if not ok:
        await throttle.record_failure(key)
        raise ApiError(403, "INVALID_CURRENT_PASSWORD", "Current password is incorrect")
    problem = passwords.weakness(new_password, username=user.username, email=user.email)
    if problem:
        raise _weak(problem, field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.updated_at = utcnow()
    others = (
        await session.scalars(
            update(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.id != current_session_id,
                UserSession.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
            .returning(UserSession.id)
        )
    ).all()
    await session.commit()
    if changes is not None:
        await changes.sessions_revoked(user_id=user.id, session_ids=list(others))
    await throttle.reset(key)
    log.info("password changed", extra={"event": "password_changed", "user_id": user.id})


async def update_profile(
    session: AsyncSession,
    *,
    user_id: int,
    username: str | None,
    email: str | None,
    changes: SessionChanges | None = None,
) -> User:
    """Change the username and/or email; 409 when taken by someone else."""
    user = await _user_by_id(session, user_id)
    name = normalize_username(username) if username is not None else None
    mail = normalize_email(email) if email else None
    await _ensure_unique(
        session,
        name_key=username_key(name) if name else None,
        mail_key=email_key(mail) if mail else None,
        exclude_id=user.id,
    )
    if name is not None:
        user.username = name
        user.username_key = username_key(name)
    if mail is not None:
        user.email = mail
        user.email_key = email_key(mail)
    user.updated_at = utcnow()
    await _commit_unique(session)
    if changes is not None:
        await changes.user_changed(user_id=user.id)
    return user


async def set_exchange(
    session: AsyncSession,
    *,
    user_id: int,
    exchange: SelectedExchange,
    changes: SessionChanges | None = None,
) -> User:
    user = await _user_by_id(session, user_id)
    user.selected_exchange = exchange
    user.updated_at = utcnow()
    await session.commit()
    if changes is not None:
        await changes.user_changed(user_id=user.id)
    return user


async def list_users(session: AsyncSession, *, requester: Principal) -> list[User]:
    if not requester.is_admin:
        raise forbidden("Only administrators can list users")
    return list((await session.scalars(select(User).order_by(User.id))).all())


async def all_users(session: AsyncSession) -> list[User]:
    """Every user, oldest first: for the operator's command line, which needs no login."""
    return list((await session.scalars(select(User).order_by(User.id))).all())


async def set_password(
    session: AsyncSession, *, user: User, password: str, changes: SessionChanges | None = None
) -> int:
    """The operator's reset (no current password): replace the password and revoke every
    session of the user, since whoever knew the old one may hold them. Raises 400
    WEAK_PASSWORD; commits; returns how many sessions were revoked."""
    problem = passwords.weakness(password, username=user.username, email=user.email)
    if problem:
        raise _weak(problem)
    user.password_hash = passwords.hash_password(password)
    user.updated_at = utcnow()
    revoked = await rows_changed(
        session,
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow()),
    )
    await session.commit()
    if changes is not None:
        await changes.user_revoked(user_id=user.id)
    log.info("password set by the operator", extra={"event": "password_set", "user_id": user.id})
    return revoked


async def find_user(session: AsyncSession, name_or_email: str) -> User | None:
    key = username_key(name_or_email)
    return await session.scalar(
        select(User).where(or_(User.username_key == key, User.email_key == email_key(key)))
    )


async def deactivate_user(
    session: AsyncSession, *, user: User, changes: SessionChanges | None = None
) -> None:
    user.is_active = False
    user.updated_at = utcnow()
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await session.commit()
    if changes is not None:
        await changes.user_revoked(user_id=user.id)
