"""A real uvicorn server on loopback, in the test's event loop, and WebSocket helpers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hyperoru.app import create_app
from hyperoru.realtime.limits import WsLimits, uvicorn_ws_options
from hyperoru.settings import Settings
from tests.e2e.server import free_port
from tests.helpers import Api

# Short enough that a whole suite of revocation and timeout cases runs in seconds.
FAST_LIMITS = WsLimits(
    connect_timeout_seconds=0.5,
    session_check_seconds=0.2,
    price_poll_seconds=0.1,
)
RECEIVE_DEADLINE = 15.0


@dataclass
class LiveServer:
    app: FastAPI
    port: int
    http: httpx.AsyncClient
    api: Api

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def user(self) -> tuple[dict[str, Any], str]:
        return await self.api.user()


@asynccontextmanager
async def run_server(
    settings: Settings,
    limits: WsLimits,
    *,
    transport_limits: bool = True,
    ws_protocol: str | None = None,
    background: bool = True,
) -> AsyncIterator[LiveServer]:
    """``transport_limits`` False leaves uvicorn's own 16 MiB frame cap in place, so the
    app's size check is what refuses a big message. ``ws_protocol`` replaces the
    WebSocket protocol ``hyperoru serve`` uses (e.g. uvicorn's plain "websockets-sansio",
    which offers no prebuilt-frame writes). ``background`` False turns off the trading
    monitors, for tests that drive them by hand."""
    app = create_app(settings)
    app.state.ws_limits = limits
    if not background:
        app.state.trading_monitor_seconds = None
    port = free_port()
    options = uvicorn_ws_options(limits) if transport_limits else {}
    if ws_protocol is not None:
        options["ws"] = ws_protocol
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield LiveServer(app=app, port=port, http=http, api=Api(http))
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def ws_settings(make_settings: Callable[..., Settings]) -> Settings:
    # Every test registers and logs in several users from 127.0.0.1; prices tick fast.
    return make_settings(rate_limit_auth_per_minute=1000, market_refresh_seconds=0.2)


@pytest.fixture
async def live(ws_settings: Settings) -> AsyncIterator[LiveServer]:
    async with run_server(ws_settings, FAST_LIMITS) as server:
        yield server


async def receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_DEADLINE))


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def ask(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await send(ws, message)
    return await receive(ws)


@asynccontextmanager
async def open_socket(
    server: LiveServer, token: str | None = None, *, how: str = "query", **options: Any
) -> AsyncIterator[ClientConnection]:
    """A socket authenticated by ``how`` (query, header, connect), ``connected`` consumed."""
    url = server.ws_url
    headers: dict[str, str] = {}
    if token is not None and how == "query":
        url += f"?session_token={token}"
    if token is not None and how == "header":
        headers["Authorization"] = f"Bearer {token}"
    async with connect(url, additional_headers=headers, **options) as ws:
        if token is not None and how == "connect":
            await send(ws, {"type": "connect", "data": {"session_token": token}})
        if token is not None:
            greeting = await receive(ws)
            assert greeting["type"] == "connected", greeting
        yield ws


async def close_code(ws: ClientConnection) -> int | None:
    """Read (and drop) frames until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), RECEIVE_DEADLINE)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
