"""Conditional GET: an authenticated API read carries a strong ETag and answers 304 with
no body when If-None-Match names it; it changes with the body, is never shared between
users, and leaves other methods, anonymous routes, errors and streams alone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from hyperoru.http.conditional import (
    ConditionalGetMiddleware,
    entity_tag,
    matches,
    remembered_tag,
)
from hyperoru.realtime.limits import WsLimits
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.realtime.conftest import run_server

LIST = "/api/account/list"


def _tag(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    tag = response.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    return tag


async def test_an_unchanged_read_answers_304_without_a_body(api: Api) -> None:
    _, token = await api.user()
    first = await api.client.get(LIST, headers=api.bearer(token))
    tag = _tag(first)
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in first.headers["vary"]

    again = await api.client.get(LIST, headers={**api.bearer(token), "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "private, no-cache"
    assert "content-length" not in again.headers and "content-type" not in again.headers
    assert again.headers["x-request-id"]  # the other layers' headers are kept
    # Any tag of a list, a weak form of it, or * also match; another tag does not.
    for header in (f'"nope", {tag}', f"W/{tag}", "*"):
        listed = await api.client.get(LIST, headers={**api.bearer(token), "If-None-Match": header})
        assert listed.status_code == 304, header
    other = await api.client.get(LIST, headers={**api.bearer(token), "If-None-Match": '"nope"'})
    assert other.status_code == 200 and other.json() == first.json()
    assert other.headers["etag"] == tag


async def test_a_change_gives_200_with_a_new_tag(api: Api) -> None:
    _, token = await api.user()
    before = _tag(await api.client.get(LIST, headers=api.bearer(token)))
    await create_trader(api, token)
    changed = await api.client.get(LIST, headers={**api.bearer(token), "If-None-Match": before})
    after = _tag(changed)
    assert after != before and len(changed.json()) == 1
    unchanged = await api.client.get(LIST, headers={**api.bearer(token), "If-None-Match": after})
    assert unchanged.status_code == 304


async def test_two_users_never_share_a_tag(api: Api) -> None:
    _, alice = await api.user()
    bob_user, bob = await api.user()
    hers = await api.client.get(LIST, headers=api.bearer(alice))
    his = await api.client.get(LIST, headers=api.bearer(bob))
    assert hers.content == his.content == b"[]"  # the same bytes...
    assert _tag(hers) != _tag(his)  # ...and still two tags
    borrowed = await api.client.get(
        LIST, headers={**api.bearer(bob), "If-None-Match": hers.headers["etag"]}
    )
    assert borrowed.status_code == 200 and borrowed.json() == []
    # Another session of the same user revalidates with the same tag: the tag is not
    # derived from the token, only from the body and the user.
    second_session = await api.login(bob_user["username"])
    assert second_session != bob
    revalidated = await api.client.get(
        LIST, headers={**api.bearer(second_session), "If-None-Match": his.headers["etag"]}
    )
    assert revalidated.status_code == 304


async def test_a_remembered_tag_is_the_tag_of_that_body_and_user() -> None:
    bodies = [b'[{"id": 1}]', b'[{"id": 2}]', b"x" * (128 * 1024)]  # the last: too big to keep
    for _ in range(2):
        for body in bodies:
            for user_id in (7, 8):
                assert remembered_tag(body, user_id) == entity_tag(body, user_id)
    assert remembered_tag(bodies[0], 7) != remembered_tag(bodies[0], 8)


async def test_the_tag_holds_nothing_but_a_hash_of_the_body_and_user() -> None:
    body = b'[{"id": 1}]'
    assert entity_tag(body, 7) == entity_tag(body, 7)
    assert entity_tag(body, 7) != entity_tag(body, 8)
    assert entity_tag(body, 7) != entity_tag(body + b" ", 7)
    assert len(entity_tag(body, 2**31 - 1)) == 34  # 32 hex digits in quotes
    assert matches(b'W/"a", "b"', b'"a"') and not matches(b'"ab"', b'"a"')


async def test_other_methods_anonymous_routes_and_errors_are_untouched(api: Api) -> None:
    _, token = await api.user()
    tag = _tag(await api.client.get(LIST, headers=api.bearer(token)))
    conditional = {**api.bearer(token), "If-None-Match": tag}

    created = await api.client.post("/api/account/", json={"name": "posted"}, headers=conditional)
    assert created.status_code == 201, created.text
    assert "etag" not in created.headers and created.headers["cache-control"] == "no-store"

    head = await api.client.head(LIST, headers=conditional)
    assert head.status_code != 304 and "etag" not in head.headers

    health = await api.client.get("/api/health", headers={"If-None-Match": "*"})
    assert health.status_code == 200 and "etag" not in health.headers
    assert health.headers["cache-control"] == "no-store"

    missing = await api.client.get("/api/account/2000000000", headers=conditional)
    assert_error(missing, 404, "ACCOUNT_NOT_FOUND")
    assert "etag" not in missing.headers


async def test_a_streamed_answer_passes_through_untagged() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"one ", b"two ", b"three"):
            yield piece

    async def stream(request: Request) -> StreamingResponse:
        request.state.user_id = 1
        return StreamingResponse(pieces(), media_type="text/event-stream")

    async def whole(request: Request) -> JSONResponse:
        request.state.user_id = 1
        return JSONResponse({"whole": True})

    inner = Starlette(routes=[Route("/api/stream", stream), Route("/api/whole", whole)])
    app = ConditionalGetMiddleware(inner)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        streamed = await client.get("/api/stream", headers={"If-None-Match": "*"})
        assert streamed.status_code == 200 and streamed.content == b"one two three"
        assert "etag" not in streamed.headers
        whole_answer = await client.get("/api/whole")
        assert whole_answer.headers["etag"] == entity_tag(whole_answer.content, 1).decode()


async def test_a_real_server_sends_304_over_http(settings: Settings) -> None:
    """Through uvicorn's HTTP/1.1 parser: a 304 without a body keeps the connection
    usable for the next request."""
    async with run_server(settings, WsLimits()) as server:
        _, token = await server.user()
        auth = {"Authorization": f"Bearer {token}"}
        first = await server.http.get(LIST, headers=auth)
        tag = _tag(first)
        for _ in range(3):
            again = await server.http.get(LIST, headers={**auth, "If-None-Match": tag})
            assert again.status_code == 304 and again.content == b""
        assert (await server.http.get(LIST, headers=auth)).json() == first.json()


async def test_the_access_log_records_the_304_that_was_sent(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = await api.user()
    tag = _tag(await api.client.get(LIST, headers=api.bearer(token)))
    caplog.set_level(logging.INFO, logger="hyperoru.access")
    again = await api.client.get(LIST, headers={**api.bearer(token), "If-None-Match": tag})
    assert again.status_code == 304
    logged = [r for r in caplog.records if r.name == "hyperoru.access"]
    assert [getattr(r, "status", None) for r in logged] == [304]
    # The request context's defaults did not overwrite the tag's Cache-Control.
    assert again.headers.get_list("cache-control") == ["private, no-cache"]
