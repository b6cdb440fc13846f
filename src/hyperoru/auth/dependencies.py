"""The one token verifier behind every protected route, and the typed aliases built on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from hyperoru.auth import service
from hyperoru.auth.principal import Principal, SessionInfo
from hyperoru.auth.second_factor import SecondFactor
from hyperoru.auth.session_changes import SessionChanges
from hyperoru.auth.throttle import SECOND_FACTOR_FAILURES, LoginThrottle
from hyperoru.errors import forbidden, unauthorized
from hyperoru.http.dependencies import DbSession, client_ip
from hyperoru.ratelimit.dependencies import MINUTE, spend
from hyperoru.ratelimit.limiter import Budget


@dataclass(frozen=True, slots=True)
class AuthContext:
    user: Principal
    session: SessionInfo


def presented_token(request: HTTPConnection) -> str | None:
    """The header wins; the legacy query parameter is the fallback when allowed."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("INVALID_TOKEN", "Authorization header must be 'Bearer <token>'")
        return value.strip()
    if request.app.state.services.settings.allow_query_token:
        values = request.query_params.getlist("session_token")
        if values:
            return values[0]
    return None


async def authenticate(request: Request) -> AuthContext:
    services = request.app.state.services
    settings = services.settings
    try:
        token = presented_token(request)
        if token is None:
            raise unauthorized("AUTH_REQUIRED", "Authentication required: send a session token")
        user, record = await service.resolve_token(
            services.sessionmaker, settings, token, services.token_cache
        )
    except Exception:
        # Failed attempts spend the caller's anonymous budget: guessing tokens is throttled.
        await spend(
            request, Budget("ip", settings.rate_limit_ip_per_minute, MINUTE), client_ip(request)
        )
        raise
    request.state.user_id = user.id
    await spend(request, Budget("user", settings.rate_limit_user_per_minute, MINUTE), str(user.id))
    found = AuthContext(user=user, session=record)
    request.state.auth = found  # for current_auth, later in this request
    return found


async def current_auth(request: Request) -> AuthContext:
    """What ``authenticate`` found for this request, which every protected route runs
    first (its router's dependency); else authenticate now. Not ``Depends(authenticate)``:
    FastAPI solves a cached dependency's whole tree again before it looks in its cache,
    about 40 calls per use on every authenticated request."""
    found: AuthContext | None = getattr(request.state, "auth", None)
    return found if found is not None else await authenticate(request)


CurrentAuth = Annotated[AuthContext, Depends(current_auth)]


async def current_user(request: Request) -> Principal:
    return (await current_auth(request)).user


CurrentUser = Annotated[Principal, Depends(current_user)]


async def admin_user(user: CurrentUser) -> Principal:
    if not user.is_admin:
        raise forbidden("Only administrators can do this")
    return user


AdminUser = Annotated[Principal, Depends(admin_user)]


async def get_login_throttle(request: Request) -> LoginThrottle:
    return LoginThrottle(request.app.state.services.limiter, request.app.state.services.settings)


Throttle = Annotated[LoginThrottle, Depends(get_login_throttle)]


async def get_session_changes(request: Request) -> SessionChanges:
    return request.app.state.services.session_changes


Changes = Annotated[SessionChanges, Depends(get_session_changes)]


async def get_second_factor(request: Request, db: DbSession) -> SecondFactor:
    services = request.app.state.services
    return SecondFactor(
        session=db,
        box=services.secret_box,
        logins=LoginThrottle(services.limiter, services.settings),
        codes=LoginThrottle(services.limiter, services.settings, SECOND_FACTOR_FAILURES),
        clock=services.clock,
        changes=services.session_changes,
    )


# Two-factor over the request's session: routes that need a fresh code call
# ``await second_factor.require_fresh_totp(user, body.totp_code)``.
TwoFactor = Annotated[SecondFactor, Depends(get_second_factor)]
