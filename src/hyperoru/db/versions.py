"""Per-user data versions: what lets a process serve a user's data from memory and still
show the user their own last committed write (read-your-writes).

Every write of a user's traders, ledgers or profile ``bump``s the user's version after
its commit and before its answer leaves; a reader compares ``current`` with the version
its cached copy was loaded under and reloads on any difference. Versions are compared
for equality only, so a lost or reset store can only cause a reload, never a stale read.

- ``LocalVersions`` (one process, the embedded default): a counter in memory, no I/O.
- ``SharedVersions`` (Redis configured: several processes): the process's own counter
  plus a Redis key holding a fresh random token per bump. A read costs one Redis GET,
  never a database round trip, and does not depend on when the event bus delivers: the
  writer's SET has completed before its client sees the answer, so the client's next
  request sees the new token in whichever process it lands.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hyperoru.redis_connect import redis_client
from hyperoru.settings import Settings

log = logging.getLogger("hyperoru.db.versions")

# Versions only need to outlive the caches that compare them (seconds); a day bounds
# Redis memory for users that stopped writing.
_SHARED_KEY_SECONDS = 86_400


class DataVersions(Protocol):
    async def bump(self, user_id: int) -> None:
        """The user's data changed (committed). Never raises."""
        ...

    async def current(self, user_id: int) -> Hashable:
        """The user's version now; unequal to every earlier one after a bump."""
        ...


class LocalVersions:
    def __init__(self) -> None:
        self._counters: defaultdict[int, int] = defaultdict(int)

    async def bump(self, user_id: int) -> None:
        self._counters[user_id] += 1

    async def current(self, user_id: int) -> Hashable:
        return self._counters[user_id]

    def local(self, user_id: int) -> int:
        return self._counters[user_id]


class _Unknown:
    """Equal to nothing: what a read compares with when Redis cannot answer (reload)."""

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return id(self)


class SharedVersions:
    def __init__(self, url: str) -> None:
        self._redis: Redis = redis_client(url)
        db = self._redis.connection_pool.connection_kwargs.get("db", 0)
        self._prefix = f"hyperoru:{db}:data-version:"
        self._local = LocalVersions()

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def bump(self, user_id: int) -> None:
        await self._local.bump(user_id)
        try:
            await self._redis.set(
                f"{self._prefix}{user_id}", secrets.token_bytes(12), ex=_SHARED_KEY_SECONDS
            )
        except (RedisError, OSError) as exc:
            # This process still sees the write (its own counter); others within their
            # caches' lifetime (docs/ARCHITECTURE.md, read paths).
            log.warning(
                "data version not shared: Redis unavailable",
                extra={"user_id": user_id, "error": type(exc).__name__},
            )

    async def current(self, user_id: int) -> Hashable:
        try:
            shared = await self._redis.get(f"{self._prefix}{user_id}")
        except (RedisError, OSError):
            return _Unknown()
        return (self._local.local(user_id), shared)


@asynccontextmanager
async def open_data_versions(settings: Settings) -> AsyncIterator[DataVersions]:
    if not settings.redis_url:
        yield LocalVersions()
        return
    versions = SharedVersions(settings.redis_url)
    try:
        yield versions
    finally:
        await versions.aclose()
