"""The one way this server opens a Redis client.

Connecting, and closing a broken connection, are bounded: redis-py waits for a closing
socket without a limit unless ``socket_connect_timeout`` is set, so a half-open TCP
connection (a Redis host that vanished) could hold a cancelled task, and a shutdown
waiting for it, for ever. Reads are left unbounded on purpose: the event bus blocks on
its subscription between events.
"""

from __future__ import annotations

from redis.asyncio import Redis

CONNECT_SECONDS = 5.0


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=CONNECT_SECONDS)
