"""Nonces for Hyperliquid actions: one strictly increasing counter per signer.

The venue keeps each signer's highest nonces and refuses a reused one or one at or
below the smallest kept, and every nonce must lie near its block time. A millisecond
timestamp is such a nonce until two actions are signed in the same millisecond, so each
signer counts ``max(now_ms, last + 1)``.

The count lives in this process (``SignerNonces``) or, when the server has Redis
(``HYPERORU_REDIS_URL``), in Redis (``RedisNonces``), so that several processes signing
for one API wallet (a server and its workers, a restart overlapping the old process)
never hand the venue the same nonce.
"""

from __future__ import annotations

import threading
from typing import Protocol

from redis.exceptions import RedisError

from hyperoru.exchanges.venue import VenueError
from hyperoru.redis_connect import redis_client


class NonceSource(Protocol):
    async def take(self, signer: str, now_ms: int) -> int:
        """The signer's next nonce: at least ``now_ms``, above every one handed out."""
        ...


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

    async def take(self, signer: str, now_ms: int) -> int:
        return self.next(signer, now_ms)


# One step, atomic in Redis: max(now, last + 1), stored back. Kept a few days past its
# last use (the venue's nonce window is two days back).
_TAKE = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local nonce = math.max(tonumber(ARGV[1]), last + 1)
redis.call('SET', KEYS[1], nonce, 'EX', 259200)
return nonce
"""


class RedisNonces:
    """The counters in Redis, shared by every process that points at it. Redis down: the
    action is not signed, so nothing is sent (``VENUE_UNAVAILABLE``)."""

    def __init__(self, redis_url: str) -> None:
        self._redis = redis_client(redis_url)
        self._take = self._redis.register_script(_TAKE)

    async def take(self, signer: str, now_ms: int) -> int:
        try:
            return int(
                await self._take(keys=[f"hyperoru:hl-nonce:{signer.lower()}"], args=[now_ms])
            )
        except RedisError as error:
            raise VenueError(
                "VENUE_UNAVAILABLE", f"no nonce for the signer: Redis failed ({error})"
            ) from error

    async def aclose(self) -> None:
        await self._redis.aclose()


# Every adapter of this process draws from here unless the server has Redis, so two
# adapters of one API wallet (the live client and a credential check) never hand the
# venue the same nonce.
PROCESS_NONCES = SignerNonces()
