"""The route index (hyperoru.http.route_index) picks the route Starlette's full loop would
pick, for every registered route, both spellings, every method, and paths no route takes."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match

from hyperoru.app import create_app
from hyperoru.http.route_index import RouteIndex, literal_segments
from hyperoru.settings import Settings
from tests.conftest import TEST_SECRET_KEY

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _app() -> FastAPI:
    return create_app(Settings(_env_file=None, secret_key=TEST_SECRET_KEY))  # type: ignore[call-arg]


def _first_match(routes: list[BaseRoute], scope: dict) -> tuple[BaseRoute | None, Match]:
    """What Starlette's ``Router.app`` hands the request to: the first full match, else
    the first partial one (a 405), else nothing (a 404)."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route, match
        if match == Match.PARTIAL and partial is None:
            partial = route
    return (partial, Match.PARTIAL) if partial is not None else (None, Match.NONE)


def _paths(app: FastAPI) -> set[str]:
    paths = {"/", "", "/api", "/api/", "/health", "/nope/x/y", "/api/unknown/1", "/static/app.js"}
    for route in app.routes:
        template = getattr(route, "path", "")
        for filler in ("1", "x", "a/b"):
            concrete = re.sub(r"\{[^}]+\}", filler, template)
            paths |= {concrete, concrete + "/", concrete.rstrip("/")}
    return paths


def _scopes(path: str, root_path: str = "") -> list[dict]:
    base = {"path": root_path + path, "root_path": root_path, "headers": [], "query_string": b""}
    scopes = [{**base, "type": "http", "method": method} for method in METHODS]
    return [*scopes, {**base, "type": "websocket"}]


@pytest.mark.parametrize("root_path", ["", "/behind-proxy"])
def test_every_path_reaches_the_route_the_full_loop_would(root_path: str) -> None:
    app = _app()
    index = RouteIndex(app.router)
    routes = list(app.router.routes)
    checked = 0
    for path in sorted(_paths(app)):
        candidates = index.router_for(path).routes
        assert len(candidates) < len(routes)
        for scope in _scopes(path, root_path):
            expected = _first_match(routes, dict(scope))
            assert _first_match(candidates, dict(scope)) == expected, (path, scope)
            checked += expected[1] == Match.FULL
    # Every route was reached at least once, so the comparison covered them all.
    assert checked >= len(routes)


def test_a_literal_prefix_counts_complete_segments_only() -> None:
    app = FastAPI()

    @app.get("/api/backtests/{backtest_id}")
    async def one() -> None: ...

    @app.get("/api/ba{rest}")
    async def partial() -> None: ...

    @app.get("/api/users/profile")
    async def fixed() -> None: ...

    first, second, third = app.routes[-3:]
    assert literal_segments(first) == ["api", "backtests"]
    assert literal_segments(second) == ["api"]  # could match /api/backtests/...
    assert literal_segments(third) == ["api", "users", "profile"]
    index = RouteIndex(app.router)
    assert second in index.router_for("/api/backtests/7").routes


async def test_a_route_added_after_the_first_request_is_served(app: FastAPI, client) -> None:
    assert (await client.get("/api/late/route")).status_code == 404

    async def late() -> dict[str, bool]:
        return {"late": True}

    app.add_api_route("/api/late/route", late, dependencies=[])
    answer = await client.get("/api/late/route")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"late": True}


async def test_a_wrong_method_is_still_405_and_an_unknown_path_404(client) -> None:
    wrong = await client.delete("/api/users/profile")
    assert wrong.status_code == 405
    missing = await client.get("/api/users/no-such-route")
    assert missing.status_code == 404
    assert (await client.get("/no/such/page/anywhere")).status_code == 404
