"""One token check per request: ``CurrentUser`` and ``CurrentAuth`` reuse what the protected
router's ``authenticate`` found for this request (hyperoru.auth.dependencies), never a
previous request's answer, and authenticate by themselves where no router did."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from hyperoru.app import create_app
from hyperoru.auth.dependencies import CurrentAuth, CurrentUser
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error, away_from_minute_edge


async def test_a_route_using_both_spends_one_unit_of_the_budget_per_request(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(rate_limit_user_per_minute=50))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user("spender")
        await away_from_minute_edge()
        remaining = []
        for path in ("/api/users/sessions", "/api/users/profile", "/api/users/sessions"):
            answer = await client.get(path, headers=api.bearer(token))
            assert answer.status_code == 200, answer.text
            remaining.append(int(answer.headers["x-ratelimit-remaining"]))
        assert remaining == [49, 48, 47]


async def test_after_a_logout_the_next_request_with_the_token_is_refused(client) -> None:
    api = Api(client)
    _, token = await api.user("leaving")
    assert (await client.get("/api/users/sessions", headers=api.bearer(token))).status_code == 200
    assert (await client.post("/api/users/logout", headers=api.bearer(token))).status_code == 204
    assert_error(
        await client.get("/api/users/profile", headers=api.bearer(token)), 401, "INVALID_TOKEN"
    )
    assert_error(
        await client.get("/api/users/sessions", headers=api.bearer(token)), 401, "INVALID_TOKEN"
    )


async def test_each_request_sees_its_own_caller(client) -> None:
    api = Api(client)
    first, first_token = await api.user("first-caller")
    second, second_token = await api.user("second-caller")
    for _ in range(2):
        for user, token in ((first, first_token), (second, second_token)):
            shown = await client.get("/api/users/profile", headers=api.bearer(token))
            assert shown.json()["username"] == user["username"]


async def test_a_route_outside_the_protected_routers_still_authenticates(
    make_settings: Callable[..., Settings],
) -> None:
    app: FastAPI = create_app(make_settings())

    async def whoami(user: CurrentUser, auth: CurrentAuth) -> dict[str, int]:
        return {"user": user.id, "session_user": auth.session.user_id}

    # Added after start-up checks, straight on the app: no router-level authenticate.
    app.add_api_route("/api/extra/whoami", whoami)
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        created, token = await api.user("outsider")
        assert_error(await client.get("/api/extra/whoami"), 401, "AUTH_REQUIRED")
        answer = await client.get("/api/extra/whoami", headers=api.bearer(token))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"user": created["id"], "session_user": created["id"]}
        limit = int(answer.headers["x-ratelimit-limit"])
        assert int(answer.headers["x-ratelimit-remaining"]) < limit
