"""The trade list's fingerprint: SHA-256 of its canonical JSON.

Canonical form: the list of round-trip objects exactly as returned (numbers as fixed-point
decimal strings, times as ISO 8601 with ``Z``), serialised with sorted keys, no spaces
(``","`` and ``":"`` separators) and ASCII only, encoded as UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any


def canonical(trades: Sequence[dict[str, Any]]) -> bytes:
    text = json.dumps(list(trades), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("utf-8")


def fingerprint(trades: Sequence[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical(trades)).hexdigest()
