"""Strict JSON from clients: UTF-8 only, no NaN or Infinity, and only text we can store.

``json.loads`` alone is too lenient for a server: it accepts UTF-16 and UTF-32 bodies, UTF-8
bytes of surrogates, ``NaN``/``Infinity`` and, above all, ``"\\ud800"``: a lone surrogate,
which is no character at all. Python carries it around until something encodes it (the
database driver, the JSON response), and fails there with a 500, sometimes after the row
was written. PostgreSQL cannot store U+0000 in text or JSONB either. So a body is parsed
once here, before any route runs, and refused whole if any string in it (keys included)
holds either.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Surrogates (U+D800-U+DFFF) only ever reach a decoded string through a \u escape, and a
# NUL only through \u0000 (raw control characters are already invalid inside strings),
# so a body without "\u" needs no walk.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPE = "\\u"


class InvalidJson(ValueError):
    """The body is not strict JSON; ``reason`` is short and safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not allowed in JSON")


def unstorable_text(value: Any) -> str | None:
    """The first string (key or value) in a parsed JSON value that holds a surrogate or
    NUL, else ``None``. Iterative, so deep nesting costs no recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def parse_strict_json(body: bytes | str) -> Any:
    """Parse a client's JSON, or raise :class:`InvalidJson` saying why not."""
    if isinstance(body, bytes):
        try:
            # Strict UTF-8: invalid bytes, overlong forms and encoded surrogates all fail.
            # A leading byte order mark is tolerated (RFC 8259 lets parsers ignore it).
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidJson("the body is not valid UTF-8") from None
    else:
        text = body
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except InvalidJson:
        raise
    except RecursionError:
        raise InvalidJson("nesting is too deep") from None
    except ValueError as exc:
        raise InvalidJson(str(exc).split(":", 1)[0][:120]) from None
    if _ESCAPE in text and unstorable_text(value) is not None:
        raise InvalidJson(
            "a string holds a lone surrogate or U+0000, which is not valid text; "
            "send Unicode characters as UTF-8 or as paired \\u escapes"
        )
    return value
