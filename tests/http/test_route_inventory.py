"""Secure by default: every registered /api route refuses missing, bad, expired and
revoked tokens, and the app refuses to start with an unprotected route."""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy import update

from hyperoru.app import create_app
from hyperoru.auth.dependencies import authenticate
from hyperoru.auth.models import UserSession
from hyperoru.http.route_policy import PUBLIC_ROUTES, enforce_protection
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error


@pytest.fixture
async def walk_api(make_settings) -> AsyncIterator[tuple[FastAPI, Api]]:
    """The app with an anonymous budget large enough to walk every route several times."""
    application = create_app(make_settings(rate_limit_ip_per_minute=100_000))
    async with running(application), asgi_client(application) as client:
        yield application, Api(client)


def protected_endpoints(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api"):
            for method in sorted(route.methods):
                if (method, route.path) not in PUBLIC_ROUTES:
                    found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


async def _call_all(api: Api, app: FastAPI, headers: dict[str, str], code: str) -> None:
    endpoints = protected_endpoints(app)
    assert len(endpoints) >= 10  # the /api/users routes alone
    for method, path in endpoints:
        response = await api.client.request(method, path, headers=headers)
        assert_error(response, 401, code)
        assert response.headers["www-authenticate"] == "Bearer", (method, path)


async def test_every_route_refuses_missing_and_malformed_tokens(
    walk_api: tuple[FastAPI, Api],
) -> None:
    app, api = walk_api
    await _call_all(api, app, {}, "AUTH_REQUIRED")
    await _call_all(api, app, {"Authorization": "Bearer hyo_" + "x" * 43}, "INVALID_TOKEN")
    await _call_all(api, app, {"Authorization": "Bearer garbage"}, "INVALID_TOKEN")


async def test_every_route_refuses_expired_and_revoked_tokens(
    walk_api: tuple[FastAPI, Api],
) -> None:
    app, api = walk_api
    _, expired = await api.user("expired-walker")
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(days=1)))
        await session.commit()
    await _call_all(api, app, api.bearer(expired), "TOKEN_EXPIRED")

    _, revoked = await api.user("revoked-walker")
    await api.client.post("/api/users/logout", headers=api.bearer(revoked))
    await _call_all(api, app, api.bearer(revoked), "INVALID_TOKEN")


def test_public_routes_are_exactly_the_contracts_three(settings: Settings) -> None:
    # And the two platform callbacks of the bots (issue 20), which Telegram and Discord
    # call without a token: each checks the platform's own secret or signature.
    assert {
        ("POST", "/api/users/register"),
        ("POST", "/api/users/login"),
        ("GET", "/api/health"),
        ("POST", "/api/bots/telegram/webhook"),
        ("POST", "/api/bots/discord/interactions/{config_id}"),
    } == PUBLIC_ROUTES


def test_an_unprotected_api_route_stops_the_app_from_starting(settings: Settings) -> None:
    app = create_app(settings)

    async def leak() -> dict[str, str]:
        return {"secret": "data"}

    app.add_api_route("/api/leak", leak)
    with pytest.raises(RuntimeError, match="GET /api/leak"):
        enforce_protection(app, authenticate)


def test_every_dependency_is_async(app: FastAPI) -> None:
    """FastAPI runs plain-function dependencies in a thread pool: a hop per request that
    costs more than most handlers (bench/README.md). Every dependency must be async."""

    def calls(dependant: object) -> list[object]:
        found = []
        for sub in dependant.dependencies:  # type: ignore[attr-defined]
            if sub.call is not None:
                found.append(sub.call)
            found.extend(calls(sub))
        return found

    offenders = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            for call in calls(route.dependant):
                if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
                    offenders.add(f"{route.path}: {getattr(call, '__qualname__', call)}")
    assert not offenders, sorted(offenders)


def test_every_websocket_route_authenticates(settings: Settings) -> None:
    app = create_app(settings)
    sockets = [r for r in app.routes if isinstance(r, APIWebSocketRoute)]
    assert [r.path for r in sockets] == ["/ws"]
    # /ws takes its token from the first message too, so it checks it itself
    # (tests/realtime prove it closes 4401 before anything else).
    assert all(getattr(r.endpoint, "authenticates_itself", False) for r in sockets)


def test_an_unauthenticated_websocket_route_stops_the_app_from_starting(
    settings: Settings,
) -> None:
    app = create_app(settings)

    async def eavesdrop(websocket: WebSocket) -> None:
        await websocket.accept()

    app.add_api_websocket_route("/ws-leak", eavesdrop)
    with pytest.raises(RuntimeError, match="WS /ws-leak"):
        enforce_protection(app, authenticate)
