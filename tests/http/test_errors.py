"""Every failure uses the contract's error shape; the body guard and headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import STRONG_PASSWORD, Api, assert_error


async def test_unknown_route_and_wrong_method(api: Api) -> None:
    assert_error(await api.client.get("/api/nope"), 404, "NOT_FOUND")
    assert_error(await api.client.get("/nowhere"), 404, "NOT_FOUND")
    assert_error(await api.client.get("/api/users/logout"), 405, "METHOD_NOT_ALLOWED")
    assert_error(await api.client.request("TRACE", "/api/health"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"username": "x", "password": ',
        b"not json",
        b"[1, 2",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": 1' + b"0" * 5000 + b"}",
    ],
)
async def test_malformed_json_is_invalid_json(api: Api, raw: bytes) -> None:
    response = await api.client.post(
        "/api/users/register", content=raw, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "INVALID_JSON")


async def test_body_without_json_content_type(api: Api) -> None:
    body = b'{"username": "typed", "password": "correct horse battery staple"}'
    for headers in (
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    ):
        response = await api.client.post("/api/users/register", content=body, headers=headers)
        assert_error(response, 400, "INVALID_JSON")
    ok = await api.client.post(
        "/api/users/register",
        content=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201


async def test_missing_body_is_a_validation_error(api: Api) -> None:
    response = await api.client.post("/api/users/register")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "body" in body["message"].lower()


async def test_bodyless_actions_accept_an_empty_post(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.post("/api/users/logout", headers=api.bearer(token))
    assert response.status_code == 204


async def test_oversized_bodies_are_413_declared_or_streamed(api: Api) -> None:
    big = b'{"username": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = await api.client.post(
        "/api/users/register", content=big, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = await api.client.post(
        "/api/users/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")


async def test_unhandled_errors_are_generic_500s(make_settings: Callable[..., Settings]) -> None:
    app: FastAPI = create_app(make_settings())

    async def explode() -> None:
        raise RuntimeError("secret internals: /etc/passwd and a stack")

    app.add_api_route("/boom", explode)
    async with running(app), asgi_client(app) as client:
        response = await client.get("/boom")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["details"] == {}
    assert response.headers["cache-control"] == "no-store"


async def test_request_id_is_generated_or_reused_when_safe(api: Api) -> None:
    generated = await api.client.get("/api/health")
    assert generated.headers["x-request-id"].startswith("req_")
    reused = await api.client.get("/api/health", headers={"X-Request-ID": "client-abc.123"})
    assert reused.headers["x-request-id"] == "client-abc.123"
    unsafe = await api.client.get("/api/health", headers={"X-Request-ID": "bad id\twith space"})
    assert unsafe.headers["x-request-id"].startswith("req_")
    error = await api.client.get("/api/nope", headers={"X-Request-ID": "trace-7"})
    assert error.json()["request_id"] == "trace-7"


async def test_security_headers_on_success_and_errors(api: Api) -> None:
    for response in (await api.client.get("/api/health"), await api.client.get("/api/nope")):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_sql_and_script_strings_are_stored_verbatim(api: Api) -> None:
    _, token = await api.user("verbatim")
    hostile = "o'hara+<script>alert(1)</script>@example.com"
    response = await api.client.put(
        "/api/users/profile", json={"email": hostile}, headers=api.bearer(token)
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    quoted = "o'hara+tag@example.com"
    response = await api.client.put(
        "/api/users/profile", json={"email": quoted}, headers=api.bearer(token)
    )
    assert response.status_code == 200 and response.json()["email"] == quoted
    login = await api.client.post(
        "/api/users/login", json={"email": quoted, "password": STRONG_PASSWORD}
    )
    assert login.status_code == 200


async def test_cors_answers_only_allowed_origins(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(allowed_origins="https://dash.example"))
    async with running(app), asgi_client(app) as client:
        for origin, allowed in (
            ("https://dash.example", True),
            ("https://evil.example", False),
            ("null", False),
        ):
            response = await client.options(
                "/api/users/profile",
                headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
            )
            assert (response.headers.get("access-control-allow-origin") == origin) is allowed


async def test_no_cors_headers_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"Origin": "https://dash.example"})
    assert "access-control-allow-origin" not in response.headers
