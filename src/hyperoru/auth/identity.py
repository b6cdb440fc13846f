"""Normalising usernames and emails so that look-alike spellings are one identity."""

from __future__ import annotations

import re
import unicodedata

from hyperoru.errors import ApiError

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
# RFC 5322 "atext" local parts (no quoted forms) and dotted DNS names.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def username_key(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).casefold()


def email_key(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().casefold()


def normalize_username(raw: str) -> str:
    """NFKC form of a username; full-width letters fold to ASCII before the check."""
    name = unicodedata.normalize("NFKC", raw)
    if not _USERNAME.match(name):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "username must be 3-32 characters of letters, digits, '_', '.' or '-'",
            details={"fields": [{"field": "username", "message": "invalid username"}]},
        )
    return name


def normalize_email(raw: str) -> str:
    email = unicodedata.normalize("NFKC", raw).strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "email is not a valid address",
            details={"fields": [{"field": "email", "message": "invalid email"}]},
        )
    return email
