"""Nonces for Hyperliquid actions: one strictly increasing counter per signer.

The venue keeps each signer's highest nonces and refuses a reused one or one at or
below the smallest kept, and every nonce must lie near its block time. A millisecond
timestamp is such a nonce until two actions are signed in the same millisecond, so each
signer counts ``max(now_ms, last + 1)``. Counters are per process (the venue's advice is
one API wallet per trading process).
"""

from __future__ import annotations

import threading


class SignerNonces:
    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()  # adapters of one signer may sign on worker threads

    def next(self, signer: str, now_ms: int) -> int:
        key = signer.lower()
        with self._lock:
            nonce = max(now_ms, self._last.get(key, 0) + 1)
            self._last[key] = nonce
            return nonce


# Every adapter of this process draws from here, so two adapters of one API wallet (the
# live client and a credential check) never hand the venue the same nonce.
PROCESS_NONCES = SignerNonces()
