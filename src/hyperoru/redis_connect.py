"""The one way this server opens a Redis client.

Connecting, and closing a broken connection, are bounded: redis-py waits for a closing
socket without a limit unless ``socket_connect_timeout`` is set, so a half-open TCP
connection (a Redis host that vanished) could hold a cancelled task, and a shutdown
waiting for it, for ever. Commands are bounded too (``COMMAND_SECONDS``: a Redis that
hangs fails the request with a 503 instead of holding it), except for a client that
blocks on purpose between messages: the event bus's subscription (``blocking_reads``).

A command that meets a closed connection is sent once more, on a new one: after Redis
restarts, every connection idle in a pool fails its next command with "Connection closed
by server" (redis-py hands it out without noticing), which made requests long after the
restart answer 503 (the soak, bench/README.md). Only a closed connection is retried, not
a timeout, so a hung Redis still fails after ``COMMAND_SECONDS``. A command whose answer
was lost after Redis ran it may run twice: the server's commands are idempotent or, like
the rate limits' counters, off by one at worst. The subscription keeps its own
reconnection (``realtime.bus``), so it is not retried here.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

CONNECT_SECONDS = 5.0
COMMAND_SECONDS = 5.0
CLOSED_CONNECTION_RETRIES = 1


def redis_options(
    *, blocking_reads: bool = False, command_seconds: float = COMMAND_SECONDS
) -> dict[str, Any]:
    """The keyword arguments of every Redis client of the server, for ``Redis.from_url``
    (the rate limits' storage builds its client from them too)."""
    retries = 0 if blocking_reads else CLOSED_CONNECTION_RETRIES
    return {
        "socket_connect_timeout": CONNECT_SECONDS,
        "socket_timeout": None if blocking_reads else command_seconds,
        "retry": Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
    }


def redis_client(
    url: str, *, blocking_reads: bool = False, command_seconds: float = COMMAND_SECONDS
) -> Redis:
    options = redis_options(blocking_reads=blocking_reads, command_seconds=command_seconds)
    return Redis.from_url(url, **options)
