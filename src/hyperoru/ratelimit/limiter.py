"""A thin, typed wrapper over `limits` with the storage chosen by settings."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.aio.strategies import RateLimiter as RateLimiter_

from hyperoru.redis_connect import redis_options


@dataclass(frozen=True, slots=True)
class Budget:
    """``amount`` requests per ``seconds`` under a named bucket."""

    bucket: str
    amount: int
    seconds: int
    # Exact budgets count every hit in the trailing window (a log of timestamps, so they
    # suit small security throttles); the others weight the previous fixed window, O(1)
    # per request whatever the budget (so they suit 1200-a-minute request budgets).
    exact: bool = False

    def item(self) -> RateLimitItemPerSecond:
        return _item(self.amount, self.seconds, self.bucket)


@lru_cache(maxsize=256)
def _item(amount: int, seconds: int, bucket: str) -> RateLimitItemPerSecond:
    # Immutable once built, and every request spends the same few budgets.
    return RateLimitItemPerSecond(amount, seconds, namespace=bucket)


@dataclass(frozen=True, slots=True)
class LimitStatus:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """``headers()`` as an ASGI answer carries them (lower-case names, bytes)."""
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset_seconds),
        ]


def _storage_for(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    return RedisStorage(
        uri,
        implementation="redispy",
        key_prefix="hyperoru-limits",
        # Bounded, and retried on a closed connection, as every Redis client of the
        # server (redis_connect).
        **redis_options(),
    )


class RateLimiter:
    """Budgets over one storage: moving windows for exact budgets, sliding-window counters
    (no burst of twice the budget at a window edge) for the rest."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._storage = _storage_for(redis_url)
        self._exact = MovingWindowRateLimiter(self._storage)
        self._approximate = SlidingWindowCounterRateLimiter(self._storage)

    def _strategy(self, budget: Budget) -> RateLimiter_:
        return self._exact if budget.exact else self._approximate

    async def _status(self, budget: Budget, key: str, allowed: bool) -> LimitStatus:
        stats = await self._strategy(budget).get_window_stats(budget.item(), key)
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return LimitStatus(allowed, budget.amount, max(0, stats.remaining), reset)

    async def hit(self, budget: Budget, key: str) -> LimitStatus:
        """Consume one unit; ``allowed`` is False when the budget was already spent."""
        allowed = await self._strategy(budget).hit(budget.item(), key)
        return await self._status(budget, key, allowed)

    async def peek(self, budget: Budget, key: str) -> LimitStatus:
        """Report the budget without consuming it."""
        allowed = await self._strategy(budget).test(budget.item(), key)
        return await self._status(budget, key, allowed)

    async def clear(self, budget: Budget, key: str) -> None:
        await self._strategy(budget).clear(budget.item(), key)

    async def reset_all(self) -> None:
        await self._storage.reset()

    async def ping(self) -> bool:
        return await self._storage.check()
