"""argon2id hashing and the password policy (length, common words, context words)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256

# OWASP's minimum argon2id profile: 19 MiB, 2 passes, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")
_EDGE_NOISE = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SERVICE_WORDS = ("hyperoru", "admin", "password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _is_sequence(text: str) -> bool:
    lowered = text.lower()
    if len(set(lowered)) <= 2:
        return True
    return any(lowered in row or lowered in row[::-1] for row in _KEYBOARD_ROWS)


def weakness(password: str, *, username: str | None = None, email: str | None = None) -> str | None:
    """Why a new password is refused, or None when it is acceptable.

    No composition rules (NIST 800-63B): length, then common and context words.
    """
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters"
    folded = password.casefold()
    core = _EDGE_NOISE.sub("", folded)
    context = [w.casefold() for w in _SERVICE_WORDS]
    if username:
        context.append(username.casefold())
    if email:
        context.append(email.casefold())
        context.append(email.split("@", 1)[0].casefold())
    for word in context:
        # "<username>1234" or "hyperoru2025!" adds nothing a guesser would not try first.
        if (
            len(word) >= 3
            and word in folded
            and not any(ch.isalpha() for ch in folded.replace(word, ""))
        ):
            return "Password must not be built from the username, the email or this service's name"
    if folded in _common_passwords() or (core and core in _common_passwords()):
        return "Password is too common"
    if _is_sequence(password) or (core and len(core) >= 4 and _is_sequence(core)):
        return "Password is a simple sequence or repetition"
    return None
