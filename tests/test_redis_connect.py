"""Every Redis client of the server is bounded: connecting, closing, and each command,
except the event bus's subscription, which blocks between events on purpose; and its
pooled connections survive a Redis restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from hyperoru.errors import unreachable_service
from hyperoru.redis_connect import COMMAND_SECONDS, CONNECT_SECONDS, redis_client
from tests.e2e.server import free_port
from tests.health.test_redis_recovery import RedisServer


def test_redis_clients_bound_their_commands_unless_they_block_on_purpose() -> None:
    bounded = redis_client("redis://127.0.0.1:1/0").connection_pool.connection_kwargs
    blocking = redis_client("redis://127.0.0.1:1/0", blocking_reads=True)
    assert (bounded["socket_connect_timeout"], bounded["socket_timeout"]) == (
        CONNECT_SECONDS,
        COMMAND_SECONDS,
    )
    assert blocking.connection_pool.connection_kwargs["socket_timeout"] is None
    assert blocking.connection_pool.connection_kwargs["socket_connect_timeout"] == CONNECT_SECONDS


async def test_a_redis_that_accepts_and_never_answers_fails_a_command_as_an_outage() -> None:
    # A real loopback server that takes the connection and the command, then stays
    # silent: a Redis hung mid-restart, or a host gone behind a half-open socket.
    received = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        received.set()
        await asyncio.Event().wait()  # never answers; cancelled when the server closes

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = redis_client(f"redis://127.0.0.1:{port}/0", command_seconds=0.2)
    try:
        with pytest.raises(RedisTimeoutError) as failed:
            # Without the bound the ping would wait for ever: fail the test instead.
            await asyncio.wait_for(client.ping(), timeout=30)
        assert received.is_set()
        # The request that ran the command answers 503 (retry later), not 500.
        assert unreachable_service(failed.value) == "redis"
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_pooled_connections_outlive_a_redis_restart(tmp_path: Path) -> None:
    """Every connection idle in the pool when Redis restarts is closed: the next command
    on each goes through on a new connection instead of failing (a 503 for a request)."""
    server = RedisServer(free_port(), tmp_path)
    server.start()
    client = redis_client(f"redis://127.0.0.1:{server.port}/0")
    try:

        async def command(index: int) -> bytes | None:
            await client.set(f"key-{index}", b"value")
            await asyncio.sleep(0)  # the others take connections of their own meanwhile
            return await client.get(f"key-{index}")

        assert await asyncio.gather(*(command(i) for i in range(8))) == [b"value"] * 8
        assert len(client.connection_pool._available_connections) == 8
        server.stop()
        await asyncio.to_thread(server.start)
        assert await asyncio.gather(*(command(i) for i in range(8))) == [b"value"] * 8
    finally:
        await client.aclose()
        server.stop()
