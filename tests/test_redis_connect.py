"""Every Redis client of the server is bounded: connecting, closing, and each command,
except the event bus's subscription, which blocks between events on purpose."""

from __future__ import annotations

from hyperoru.redis_connect import COMMAND_SECONDS, CONNECT_SECONDS, redis_client


def test_redis_clients_bound_their_commands_unless_they_block_on_purpose() -> None:
    bounded = redis_client("redis://127.0.0.1:1/0").connection_pool.connection_kwargs
    blocking = redis_client("redis://127.0.0.1:1/0", blocking_reads=True)
    assert (bounded["socket_connect_timeout"], bounded["socket_timeout"]) == (
        CONNECT_SECONDS,
        COMMAND_SECONDS,
    )
    assert blocking.connection_pool.connection_kwargs["socket_timeout"] is None
    assert blocking.connection_pool.connection_kwargs["socket_connect_timeout"] == CONNECT_SECONDS
