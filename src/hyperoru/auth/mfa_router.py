"""/api/users/mfa/totp: enrolling, confirming and removing the user's second factor."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hyperoru.auth.dependencies import CurrentUser, TwoFactor
from hyperoru.auth.schemas import (
    TotpDisableRequest,
    TotpEnableRequest,
    TotpEnableResponse,
    TotpSetupRequest,
    TotpSetupResponse,
)

router = APIRouter(prefix="/api/users/mfa/totp", tags=["users"])


@router.post("/setup", response_model=TotpSetupResponse)
async def setup_totp(
    body: TotpSetupRequest, user: CurrentUser, second_factor: TwoFactor
) -> TotpSetupResponse:
    pending = await second_factor.setup(user_id=user.id, password=body.password)
    return TotpSetupResponse(secret=pending.secret, otpauth_uri=pending.otpauth_uri)


@router.post("/enable", response_model=TotpEnableResponse)
async def enable_totp(
    body: TotpEnableRequest, user: CurrentUser, second_factor: TwoFactor
) -> TotpEnableResponse:
    codes = await second_factor.enable(user_id=user.id, code=body.code)
    return TotpEnableResponse(recovery_codes=codes)


@router.post("/disable", status_code=204, response_class=Response)
async def disable_totp(
    body: TotpDisableRequest, user: CurrentUser, second_factor: TwoFactor
) -> Response:
    await second_factor.disable(user_id=user.id, password=body.password, code=body.code)
    return Response(status_code=204)
