"""Request and response bodies of /api/users."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperoru.api_types import RequestModel, ResponseModel, UtcTime
from hyperoru.auth.models import SelectedExchange

# Length caps here are shape checks made before any hashing; the password policy
# (422 WEAK_PASSWORD) is applied by the service.
_PASSWORD = Field(min_length=1, max_length=1024)


class RegisterRequest(RequestModel):
    username: str = Field(max_length=128)
    email: str | None = Field(default=None, max_length=320)
    password: str = _PASSWORD


class LoginRequest(RequestModel):
    password: str = Field(max_length=10_000)
    email: str | None = Field(default=None, max_length=320)
    username: str | None = Field(default=None, max_length=128)
    login: str | None = Field(default=None, max_length=320)
    client_name: str | None = Field(default=None, max_length=64)


class PasswordChangeRequest(RequestModel):
    current_password: str = Field(max_length=10_000)
    new_password: str = _PASSWORD


class ProfileUpdateRequest(RequestModel):
    username: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=320)


class ExchangeConfigRequest(RequestModel):
    selected_exchange: SelectedExchange


class ExchangeConfigResponse(ResponseModel):
    selected_exchange: SelectedExchange


class UserOut(ResponseModel):
    id: int
    username: str
    email: str | None
    is_active: bool
    created_at: UtcTime
    mfa_enabled: bool = Field(description="Two-factor (TOTP) is enabled for this user")


class LoginResponse(ResponseModel):
    user: UserOut
    session_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_at: UtcTime


class SessionOut(ResponseModel):
    id: int
    client_name: str | None
    created_at: UtcTime
    last_used_at: UtcTime | None
    expires_at: UtcTime
    ip: str | None
    user_agent: str | None
    current: bool


# Two-factor (TOTP). Codes are shape-checked by the service (a wrong shape is a wrong code).
_CODE = Field(min_length=1, max_length=64)


class TotpSetupRequest(RequestModel):
    password: str = Field(max_length=10_000)


class TotpSetupResponse(ResponseModel):
    secret: str = Field(description="Base32; shown once, until the setup is enabled or replaced")
    otpauth_uri: str = Field(description="The same secret as an otpauth:// URI for QR codes")


class TotpEnableRequest(RequestModel):
    code: str = _CODE


class TotpEnableResponse(ResponseModel):
    recovery_codes: list[str] = Field(description="Ten single-use codes; shown this once")


class TotpDisableRequest(RequestModel):
    password: str = Field(max_length=10_000)
    code: str = Field(
        min_length=1, max_length=64, description="A current TOTP code or an unused recovery code"
    )
