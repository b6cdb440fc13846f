"""Bodies with text that is not text (a lone surrogate, U+0000, bytes that are not UTF-8)
are refused with 400 INVALID_JSON by the body guard, before any route runs, and nothing is
stored. Found by an adversarial review (issue 15): ``"\\ud800"`` in a program's params was
answered 500 *and* saved, after which the user's program list answered 500 for good.

The body-taking routes are read from the app itself, so a route added later is walked too.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute

from hyperoru.strict_json import InvalidJson, parse_strict_json, unstorable_text
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error

PLACE = "@@TEXT@@"
# One body for every route, with the text where most routes keep strings: whatever the
# route reads, the guard must refuse the body before the route reads it.
TEMPLATE = json.dumps(
    {
        "name": PLACE,
        "username": PLACE,
        "password": f"correct horse battery {PLACE}",
        "description": PLACE,
        "code": f"result = 1  # {PLACE}",
        "params": {"note": PLACE, PLACE: 1},
        "params_override": {"note": PLACE},
        "symbols": ["BTC"],
    }
).encode()
BAD_TEXT: dict[str, bytes] = {
    "lone high surrogate": b"\\ud800",
    "lone low surrogate": b"\\udfff",
    "pair in the wrong order": b"\\udc00\\ud800",
    "high surrogate then a letter": b"\\ud83dx",
    "NUL": b"a\\u0000b",
    "invalid UTF-8 byte": b"\xff",
    "truncated UTF-8 sequence": b"\xe2\x82",
    "overlong UTF-8 for '/'": b"\xc0\xaf",
    "UTF-8 bytes of a surrogate": b"\xed\xa0\x80",
}
_PARAM = re.compile(r"{[^}]+}")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def body_with(text: bytes) -> bytes:
    return TEMPLATE.replace(PLACE.encode(), text)


def body_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route a body can be sent to, path parameters filled in."""
    return sorted(
        (method, _PARAM.sub("1", route.path))
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods & _BODY_METHODS
    )


async def every_row(app: FastAPI) -> dict[str, list[str]]:
    engine = app.state.services.engine
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        rows = {}
        for name in names:
            result = await connection.execute(sa.text(f'SELECT * FROM "{name}"'))
            rows[name] = sorted(repr(tuple(row)) for row in result)
    return rows


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_the_parser_refuses_text_that_is_not_text(text: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse_strict_json(body_with(text))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'"\\ud83d\\ude00"', "\U0001f600"),  # a proper pair is one character
        ('"é😀"'.encode(), "é😀"),
        (b'"\\\\ud800"', "\\ud800"),  # an escaped backslash: the six characters, no surrogate
        (b'\xef\xbb\xbf{"a": "\\u00e9"}', {"a": "é"}),  # a UTF-8 byte order mark is ignored
        (b'{"\\ud83d\\ude00": ["\\u0001"]}', {"\U0001f600": ["\x01"]}),
    ],
)
def test_the_parser_accepts_every_real_text(raw: bytes, expected: Any) -> None:
    assert parse_strict_json(raw) == expected


def test_the_walk_reaches_keys_and_deep_values() -> None:
    deep: Any = "\ud800"
    for _ in range(2000):
        deep = [{"k": deep}]
    assert unstorable_text(deep) == "\ud800"
    assert unstorable_text({"\x00": 1}) == "\x00"
    assert unstorable_text({"a": ["b", {"c": 1.5, "d": None, "e": True}]}) is None
    # UTF-16 is JSON to json.loads but not to us: RFC 8259 requires UTF-8 between systems.
    with pytest.raises(InvalidJson):
        parse_strict_json('{"a": 1}'.encode("utf-16"))


async def test_every_body_route_refuses_it_and_stores_nothing(app: FastAPI, api: Api) -> None:
    _, token = await api.user()
    routes = body_routes(app)
    # The walk really reaches the routes of the finding.
    for expected in (
        ("POST", "/api/programs/"),
        ("PUT", "/api/programs/1"),
        ("POST", "/api/bindings"),
        ("PUT", "/api/bindings/1"),
        ("POST", "/api/signals/definitions"),
        ("POST", "/api/signals/pools"),
        ("POST", "/api/users/register"),
    ):
        assert expected in routes, expected
    before = await every_row(app)
    for method, path in routes:
        for name, text in BAD_TEXT.items():
            response = await api.client.request(
                method,
                path,
                content=body_with(text),
                headers={**api.bearer(token), "Content-Type": "application/json"},
            )
            assert response.status_code == 400, (method, path, name, response.text)
            assert_error(response, 400, "INVALID_JSON")
    assert await every_row(app) == before

    # The same body with real text is taken, and stored: the comparison above can see a
    # write, and the guard refuses no real text.
    for text in ("é😀".encode(), b"\\ud83d\\ude00", b"\\\\ud800"):
        created = await api.client.post(
            "/api/programs/",
            content=body_with(text),
            headers={**api.bearer(token), "Content-Type": "application/json"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["params"]["note"] == json.loads(b'"' + text + b'"')
    assert await every_row(app) != before
    listed = await api.client.get("/api/programs/", headers=api.bearer(token))
    assert listed.status_code == 200 and len(listed.json()) == 3


async def test_the_reported_cases_answer_400_and_the_lists_keep_working(api: Api) -> None:
    """The review's reproductions: params, params_override, signal and pool names."""
    _, token = await api.user()
    h = {**api.bearer(token), "Content-Type": "application/json"}
    trader = await create_trader(api, token, llm_provider="builtin")
    program = {"name": "p", "code": "def decide(data, params):\n    return []\n"}

    def lone(body: dict[str, Any]) -> bytes:
        return json.dumps(body).replace(PLACE, "\\ud800").encode()

    cases = [
        ("/api/programs/", {**program, "params": {"size": PLACE}}),
        ("/api/bindings", {"account_id": trader["id"], "params_override": {"k": PLACE}}),
        (
            "/api/signals/definitions",
            {
                "name": PLACE,
                "type": "threshold",
                "config": {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30},
            },
        ),
        ("/api/signals/pools", {"name": PLACE, "signal_ids": [1], "symbols": ["BTC"]}),
    ]
    for path, body in cases:
        response = await api.client.post(path, content=lone(body), headers=h)
        assert_error(response, 400, "INVALID_JSON")
    for listing in ("/api/programs/", "/api/bindings", "/api/signals/"):
        response = await api.client.get(listing, headers=api.bearer(token))
        assert response.status_code == 200, (listing, response.text)
    assert (await api.client.get("/api/programs/", headers=api.bearer(token))).json() == []


@pytest.mark.parametrize("escaped", ["%ED%A0%80", "%00", "%FF", "%C0%AF"])
async def test_paths_and_queries_cannot_carry_it(api: Api, escaped: str) -> None:
    """Paths and queries are decoded with replacement characters (uvicorn, Starlette), so
    no surrogate reaches a route from them; their only free-text values (market symbols)
    are looked up, never stored. Either way: an error in the contract's shape, no 500."""
    _, token = await api.user()
    for url in (
        f"/api/crypto/price/{escaped}",
        f"/api/crypto/prices?symbols={escaped}",
        f"/api/klines?symbol={escaped}&interval={escaped}",
        f"/api/programs/?q={escaped}",
    ):
        response = await api.client.get(url, headers=api.bearer(token))
        assert response.status_code < 500, (url, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "message", "code", "request_id", "details"}
