"""Streams at once per user, counted across every process sharing Redis.

Per user a sorted set (``hyperoru:<db>:ai-streams:<user_id>``) of the slots taken, each
scored with the end of its lease. Taking one first drops the slots whose lease ran out,
so a process that died holding slots frees them within the lease, even while the user
keeps chatting; the running process renews its slots with the heartbeat. Taking is one
atomic script: two processes cannot both take the last slot.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hyperoru.assistant.limits import too_many_streams
from hyperoru.assistant.redis_tasks import LEASE_SECONDS, redis_prefix

log = logging.getLogger("hyperoru.assistant.limits")

_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisStreamSlots:
    def __init__(
        self,
        redis: Redis,
        *,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = redis_prefix(redis, "ai-streams")
        self._lease = lease_seconds
        self._clock = clock
        self._take = redis.register_script(_TAKE)
        self._mine: defaultdict[int, list[str]] = defaultdict(list)

    async def acquire(self, user_id: int, limit: int) -> None:
        slot = secrets.token_hex(8)
        now = self._clock()
        taken = await self._take(
            keys=[f"{self._prefix}{user_id}"],
            args=[now, limit, now + self._lease, slot, math.ceil(self._lease) + 1],
        )
        if not int(taken):
            raise too_many_streams(limit)
        self._mine[user_id].append(slot)

    async def release(self, user_id: int) -> None:
        slots = self._mine.get(user_id)
        if not slots:
            return
        slot = slots.pop()
        if not slots:
            del self._mine[user_id]
        try:
            await self._redis.zrem(f"{self._prefix}{user_id}", slot)
        except (RedisError, OSError) as exc:
            log.warning(
                "assistant stream slot not given back: it lapses with its lease",
                extra={"user_id": user_id, "error": type(exc).__name__},
            )

    def running(self, user_id: int) -> int:
        return len(self._mine.get(user_id, ()))

    async def renew(self) -> None:
        if not self._mine:
            return
        lease_until = self._clock() + self._lease
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, slots in self._mine.items():
                    key = f"{self._prefix}{user_id}"
                    # XX: a slot another process already dropped as lapsed stays dropped.
                    pipe.zadd(key, dict.fromkeys(slots, lease_until), xx=True)
                    pipe.expire(key, math.ceil(self._lease) + 1)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning(
                "assistant stream slots not renewed: Redis unavailable",
                extra={"users": len(self._mine), "error": type(exc).__name__},
            )
