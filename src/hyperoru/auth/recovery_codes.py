"""Recovery codes: the way back in when the authenticator is lost.

Ten codes of ten characters (50 bits each) from an alphabet without look-alikes, shown
once as ``xxxxx-xxxxx`` and stored as argon2id hashes like passwords. Typing is forgiven:
case, spaces and dashes do not matter.
"""

from __future__ import annotations

import secrets

from hyperoru.auth import passwords

COUNT = 10
LENGTH = 10
# Lower-case letters and digits without 0/o, 1/l/i: read aloud or copied by hand safely.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_codes(count: int = COUNT) -> list[str]:
    return [
        _grouped("".join(secrets.choice(ALPHABET) for _ in range(LENGTH))) for _ in range(count)
    ]


def _grouped(raw: str) -> str:
    half = LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


def normalized(code: str) -> str | None:
    """The code as it was hashed, or None when it cannot be a recovery code."""
    raw = code.replace("-", "").replace(" ", "").lower()
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return _grouped(raw)


def hash_code(code: str) -> str:
    return passwords.hash_password(code)


def matches(code_hash: str, code: str) -> bool:
    return passwords.verify_password(code_hash, code)
