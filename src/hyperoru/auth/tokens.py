"""Session tokens: 256 random bits with a recognisable prefix, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_PREFIX = "hyo_"  # noqa: S105 - a public prefix, not a secret
_TOKEN_SHAPE = re.compile(r"^hyo_[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # A plain hash is enough: the input has 256 bits of entropy, so no salt or KDF helps.
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(candidate: str) -> bool:
    return bool(_TOKEN_SHAPE.match(candidate))
