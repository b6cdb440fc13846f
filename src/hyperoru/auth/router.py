"""/api/users: registration and login (public), sessions and profile (authenticated)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from hyperoru.api_types import ResourceId
from hyperoru.auth import service
from hyperoru.auth.dependencies import AdminUser, Changes, CurrentAuth, CurrentUser, Throttle
from hyperoru.auth.schemas import (
    ExchangeConfigRequest,
    ExchangeConfigResponse,
    LoginRequest,
    LoginResponse,
    PasswordChangeRequest,
    ProfileUpdateRequest,
    RegisterRequest,
    SessionOut,
    UserOut,
)
from hyperoru.errors import ApiError
from hyperoru.http.dependencies import AppSettings, ClientIp, DbSession
from hyperoru.http.prerendered import json_response
from hyperoru.ratelimit.dependencies import anonymous_budget, per_ip

public_router = APIRouter(prefix="/api/users", tags=["users"])
router = APIRouter(prefix="/api/users", tags=["users"])

_register_budget = per_ip(
    "register", lambda r: r.app.state.services.settings.rate_limit_auth_per_minute, exact=True
)
_login_budget = per_ip(
    "login", lambda r: r.app.state.services.settings.rate_limit_auth_per_minute, exact=True
)


@public_router.post(
    "/register",
    status_code=201,
    response_model=UserOut,
    dependencies=[Depends(anonymous_budget), Depends(_register_budget)],
)
async def register(body: RegisterRequest, db: DbSession, settings: AppSettings) -> UserOut:
    if settings.registration == "closed":
        raise ApiError(403, "REGISTRATION_CLOSED", "Registration is closed on this server")
    user = await service.register_user(
        db, username=body.username, email=body.email, password=body.password
    )
    return UserOut.model_validate(user)


@public_router.post(
    "/login",
    response_model=LoginResponse,
    dependencies=[Depends(anonymous_budget), Depends(_login_budget)],
)
async def login(
    body: LoginRequest,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    throttle: Throttle,
    changes: Changes,
    ip: ClientIp,
) -> LoginResponse:
    if not (body.email or body.username or body.login):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "Send 'email' or 'username' (or 'login') with the password",
            details={"fields": [{"field": "username", "message": "required"}]},
        )
    user = await service.authenticate_password(
        db,
        throttle,
        password=body.password,
        email=body.email,
        username=body.username,
        login=body.login,
    )
    issued = await service.issue_session(
        db,
        settings,
        user=user,
        client_name=body.client_name,
        client=service.ClientInfo(ip=ip, user_agent=request.headers.get("user-agent")),
        changes=changes,
    )
    return LoginResponse(
        user=UserOut.model_validate(user),
        session_token=issued.token,
        expires_at=issued.session.expires_at,
    )


@router.post("/logout", status_code=204, response_class=Response)
async def logout(auth: CurrentAuth, db: DbSession, changes: Changes) -> Response:
    await service.revoke_session(
        db, user_id=auth.user.id, session_id=auth.session.id, changes=changes
    )
    return Response(status_code=204)


@router.post("/logout-all", status_code=204, response_class=Response)
async def logout_all(auth: CurrentAuth, db: DbSession, changes: Changes) -> Response:
    await service.revoke_all_sessions(db, user_id=auth.user.id, changes=changes)
    return Response(status_code=204)


@router.get("/sessions", response_model=list[SessionOut])
async def sessions(auth: CurrentAuth, db: DbSession) -> list[SessionOut]:
    records = await service.list_sessions(db, user_id=auth.user.id)
    return [
        SessionOut.model_validate(
            {
                "id": r.id,
                "client_name": r.client_name,
                "created_at": r.created_at,
                "last_used_at": r.last_used_at,
                "expires_at": r.expires_at,
                "ip": r.ip,
                "user_agent": r.user_agent,
                "current": r.id == auth.session.id,
            }
        )
        for r in records
    ]


@router.delete("/sessions/{session_id}", status_code=204, response_class=Response)
async def revoke_session(
    session_id: ResourceId, user: CurrentUser, db: DbSession, changes: Changes
) -> Response:
    await service.revoke_session(db, user_id=user.id, session_id=session_id, changes=changes)
    return Response(status_code=204)


@router.put("/password", status_code=204, response_class=Response)
async def change_password(
    body: PasswordChangeRequest,
    auth: CurrentAuth,
    db: DbSession,
    throttle: Throttle,
    changes: Changes,
) -> Response:
    await service.change_password(
        db,
        throttle,
        changes=changes,
        user_id=auth.user.id,
        current_session_id=auth.session.id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=204)


@router.get("/profile", response_model=UserOut)
async def profile(user: CurrentUser, request: Request) -> Response:
    # Encoded once per change (auth.profile_reads), not validated per request.
    return json_response(await request.app.state.services.profile_reads.profile_json(user))


@router.put("/profile", response_model=UserOut)
async def update_profile(
    body: ProfileUpdateRequest, user: CurrentUser, db: DbSession, changes: Changes
) -> UserOut:
    updated = await service.update_profile(
        db, user_id=user.id, username=body.username, email=body.email, changes=changes
    )
    return UserOut.model_validate(updated)


@router.get("/", response_model=list[UserOut])
async def list_users(admin: AdminUser, db: DbSession) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await service.list_users(db, requester=admin)]


@router.get("/exchange-config", response_model=ExchangeConfigResponse)
async def get_exchange_config(user: CurrentUser) -> ExchangeConfigResponse:
    return ExchangeConfigResponse(selected_exchange=user.selected_exchange)


@router.post("/exchange-config", response_model=ExchangeConfigResponse)
async def set_exchange_config(
    body: ExchangeConfigRequest, user: CurrentUser, db: DbSession, changes: Changes
) -> ExchangeConfigResponse:
    await service.set_exchange(
        db, user_id=user.id, exchange=body.selected_exchange, changes=changes
    )
    return ExchangeConfigResponse(selected_exchange=body.selected_exchange)
