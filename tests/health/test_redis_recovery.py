"""A process that loses Redis says so in its readiness check, and recovers by itself when
Redis is back: health answers ready again and events flow through the bus again, with no
restart of the process."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from hyperoru.app import create_app
from hyperoru.realtime.events import PriceEvent
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running
from tests.e2e.server import free_port
from tests.helpers import STRONG_PASSWORD, Api, assert_error


class RedisServer:
    """A private redis-server on a fixed port, to stop and start again."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    client.ping()
                    return
                except RedisConnectionError:
                    assert self.process.poll() is None, "redis-server exited"
                    assert time.monotonic() < deadline, "redis-server never answered"
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


async def _health(client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    response = await client.get("/api/health")
    return response.status_code, response.json()


async def _until_an_event_comes_back(app: FastAPI) -> None:
    """Publish until the bus delivers one back: it resubscribes on its own schedule
    (backing off up to 10 s), so this polls the bus's state, not a clock."""
    bus = app.state.services.bus
    arrived: asyncio.Queue[object] = asyncio.Queue()
    unsubscribe = bus.subscribe(arrived.put_nowait)
    try:
        async with asyncio.timeout(60):
            while True:
                await bus.publish(PriceEvent(symbol="RECOVERY", observed_at=utcnow(), data={}))
                try:
                    async with asyncio.timeout(0.5):
                        while True:
                            event = await arrived.get()
                            if isinstance(event, PriceEvent) and event.symbol == "RECOVERY":
                                return
                except TimeoutError:
                    continue
    finally:
        unsubscribe()


async def test_lost_redis_is_unready_and_recovers_without_a_restart(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    redis = RedisServer(free_port(), tmp_path)
    redis.start()
    try:
        app = create_app(make_settings(redis_url=f"redis://127.0.0.1:{redis.port}/0"))
        async with running(app), asgi_client(app) as client:
            status, body = await _health(client)
            assert (status, body["status"], body["redis"]) == (200, "healthy", "ok")
            await _until_an_event_comes_back(app)
            api = Api(client)
            user, token = await api.user()

            redis.stop()
            # Requests that need Redis (the rate limits live there) are told to come back,
            # in the contract's shape: an outage is not a server bug (no 500).
            login = {"username": user["username"], "password": STRONG_PASSWORD}
            for answer in (
                await client.post("/api/users/login", json=login),
                await client.get("/api/users/profile", headers=api.bearer(token)),
            ):
                refused = assert_error(answer, 503, "SERVICE_UNAVAILABLE")
                assert answer.headers["retry-after"] == "2"
                assert refused["details"] == {"service": "redis"}
                assert "redis" in refused["message"]
            status, body = await _health(client)
            assert (status, body["status"], body["redis"]) == (503, "unhealthy", "error")
            assert body["database"] == "ok"
            live = await client.get("/api/health", params={"probe": "live"})
            assert live.status_code == 200

            await asyncio.to_thread(redis.start)  # the app's loop keeps running meanwhile
            # Ready again by itself. Not necessarily at the first check: its 1 s ping may
            # meet a pooled connection to the old server first and spend its time
            # reconnecting (on a loaded machine it then runs out), so wait for it, bounded.
            deadline = time.monotonic() + 30
            while True:
                status, body = await _health(client)
                if status == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert (status, body["status"], body["redis"]) == (200, "healthy", "ok")
            profile = await client.get("/api/users/profile", headers=api.bearer(token))
            assert profile.status_code == 200, profile.text
            await _until_an_event_comes_back(app)
    finally:
        redis.stop()
