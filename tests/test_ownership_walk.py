"""Every route that takes an account id answers 403 FORBIDDEN for another user's trader
and 404 ACCOUNT_NOT_FOUND for a missing or deleted one.

The routes are read from the app itself, so routes added later are walked without
touching this file, unless they need a body or extra parameters this file does not
know: then the walk fails and asks for an entry in the tables below.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error

# The smallest valid body of each body-taking route, by (method, path template).
MINIMAL_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/account/{account_id}"): {"name": "taken over"},
    ("PUT", "/api/account/{account_id}/strategy"): {"enabled": False},
    ("PUT", "/api/traders/{account_id}/llm"): {"model": "taken over"},
    ("PUT", "/api/account/{account_id}/exchange"): {
        "exchange": "binance",
        "api_key": "A" * 64,
        "api_secret": "B" * 64,
        "totp_code": "123456",
    },
    ("DELETE", "/api/account/{account_id}/exchange"): {"totp_code": "123456"},
    ("POST", "/api/account/{account_id}/kill"): {"flatten": True},
}
# Values for path parameters other than the account id (e.g. {order_id}).
OTHER_PATH_VALUES: dict[str, str] = {}
# Required query parameters, by name.
QUERY_VALUES: dict[str, str] = {}

_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
MISSING_ID = 2_000_000_000


def _account_param(route: APIRoute) -> str | None:
    names = _PARAM.findall(route.path)
    if "account_id" in names:
        return "account_id"
    if route.path.startswith("/api/account/") and "id" in names:
        return "id"
    return None


def account_routes(app: FastAPI) -> list[tuple[str, APIRoute, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            param = _account_param(route)
            if param is not None:
                found.extend((method, route, param) for method in sorted(route.methods))
    return found


def _call_args(method: str, route: APIRoute, param: str, account_id: int) -> dict[str, Any]:
    values = {param: str(account_id)}
    for name in _PARAM.findall(route.path):
        if name != param:
            if name not in OTHER_PATH_VALUES:
                pytest.fail(f"{method} {route.path}: add {{{name}}} to OTHER_PATH_VALUES")
            values[name] = OTHER_PATH_VALUES[name]
    path = _PARAM.sub(lambda m: values[m.group(1)], route.path)
    query = {}
    for field in route.dependant.query_params:
        if field.required:
            if field.alias not in QUERY_VALUES:
                pytest.fail(f"{method} {route.path}: add ?{field.alias} to QUERY_VALUES")
            query[field.alias] = QUERY_VALUES[field.alias]
    args: dict[str, Any] = {"method": method, "url": path, "params": query}
    if route.body_field is not None:
        key = (method, route.path)
        if key not in MINIMAL_BODIES:
            pytest.fail(f"{method} {route.path} takes a body: add one to MINIMAL_BODIES")
        args["json"] = MINIMAL_BODIES[key]
    return args


async def test_the_walk_finds_the_account_routes(app: FastAPI) -> None:
    found = {(method, route.path) for method, route, _ in account_routes(app)}
    assert {
        ("GET", "/api/account/{account_id}"),
        ("PUT", "/api/account/{account_id}"),
        ("DELETE", "/api/account/{account_id}"),
        ("GET", "/api/account/{account_id}/overview"),
        ("GET", "/api/account/{account_id}/strategy"),
        ("PUT", "/api/account/{account_id}/strategy"),
    } <= found


async def test_every_account_route_enforces_ownership(app: FastAPI, api: Api) -> None:
    _, owner = await api.user()
    _, intruder = await api.user()
    trader = await create_trader(api, owner, llm_provider="openai", api_key="sk-owner-key-1234")
    deleted = await create_trader(api, owner, name="deleted")
    gone = await api.client.delete(f"/api/account/{deleted['id']}", headers=api.bearer(owner))
    assert gone.status_code == 204
    before = (await api.client.get("/api/account/list", headers=api.bearer(owner))).json()

    routes = account_routes(app)
    assert routes
    for method, route, param in routes:
        label = f"{method} {route.path}"
        stolen = _call_args(method, route, param, trader["id"])
        response = await api.client.request(**stolen, headers=api.bearer(intruder))
        assert response.status_code == 403, label
        assert_error(response, 403, "FORBIDDEN")

        for account_id in (MISSING_ID, deleted["id"]):
            for token in (owner, intruder):
                args = _call_args(method, route, param, account_id)
                response = await api.client.request(**args, headers=api.bearer(token))
                assert response.status_code == 404, label
                assert_error(response, 404, "ACCOUNT_NOT_FOUND")

    after = (await api.client.get("/api/account/list", headers=api.bearer(owner))).json()
    assert after == before  # the intruder changed nothing
