"""The one way this server opens a Redis client.

Connecting, and closing a broken connection, are bounded: redis-py waits for a closing
socket without a limit unless ``socket_connect_timeout`` is set, so a half-open TCP
connection (a Redis host that vanished) could hold a cancelled task, and a shutdown
waiting for it, for ever. Commands are bounded too (``COMMAND_SECONDS``: a Redis that
hangs fails the request with a 503 instead of holding it), except for a client that
blocks on purpose between messages: the event bus's subscription (``blocking_reads``).
"""

from __future__ import annotations

from redis.asyncio import Redis

CONNECT_SECONDS = 5.0
COMMAND_SECONDS = 5.0


def redis_client(
    url: str, *, blocking_reads: bool = False, command_seconds: float = COMMAND_SECONDS
) -> Redis:
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_SECONDS,
        socket_timeout=None if blocking_reads else command_seconds,
    )
