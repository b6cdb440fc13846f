"""Time-based one-time codes (RFC 6238 through ``pyotp``): six digits, 30-second steps.

Pure: the caller passes the time. ``matching_step`` says which time step a code belongs
to (the current one, or one step either side for a clock that drifts), so the caller can
refuse a step it has already accepted: a code is good once.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp

ISSUER = "Hyperoru"
STEP_SECONDS = 30
DIGITS = 6
# Steps either side of the current one that are still accepted (clock drift).
DRIFT_STEPS = 1
_CODE = re.compile(rf"^[0-9]{{{DIGITS}}}$")


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, account_name: str) -> str:
    """The ``otpauth://`` URI authenticator apps read (usually from a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )


def normalized_code(code: str) -> str | None:
    """The six digits of ``code`` (spaces allowed, as apps show "123 456"), or None."""
    digits = code.replace(" ", "")
    return digits if _CODE.match(digits) else None


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the drift window, or None.

    Every candidate is compared (in constant time), so the time taken does not say which
    step matched."""
    digits = normalized_code(code)
    if digits is None:
        return None
    current = time_step(now)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), digits) and found is None:
            found = step
    return found
