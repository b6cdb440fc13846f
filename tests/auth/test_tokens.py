"""Session tokens: storage, transport, expiry, revocation, per-user cap."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hyperoru.app import create_app
from hyperoru.auth.models import UserSession
from hyperoru.auth.tokens import new_token
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error, stored_bytes


async def _profile(api: Api, **kwargs: object):
    return await api.client.get("/api/users/profile", **kwargs)


async def test_tokens_are_stored_only_as_sha256_digests(app, api: Api, settings: Settings) -> None:
    _, token = await api.user("digest")
    async with app.state.services.sessionmaker() as session:
        digests = (await session.scalars(select(UserSession.token_digest))).all()
    assert digests == [hashlib.sha256(token.encode()).hexdigest()]
    raw = await stored_bytes(app, settings)
    assert digests[0].encode() in raw  # the dump really covers the sessions table
    assert token.encode() not in raw
    assert token[4:].encode() not in raw
    # Presenting the stored digest as if it were a token gets nowhere.
    assert_error(await _profile(api, headers=api.bearer(digests[0])), 401, "INVALID_TOKEN")
    assert_error(
        await _profile(api, headers=api.bearer("hyo_" + digests[0][:43])), 401, "INVALID_TOKEN"
    )


async def test_ten_thousand_tokens_are_distinct_and_well_formed() -> None:
    tokens = {new_token() for _ in range(10_000)}
    assert len(tokens) == 10_000
    assert all(len(t) == 47 and t.startswith("hyo_") for t in tokens)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "INVALID_TOKEN"),
        ("Bearer ", "INVALID_TOKEN"),
        ("Basic dXNlcjpwYXNz", "INVALID_TOKEN"),
        ("Bearer hyo_" + "A" * 43, "INVALID_TOKEN"),
        ("Bearer not-a-token", "INVALID_TOKEN"),
        ("Bearer hyo_short", "INVALID_TOKEN"),
    ],
)
async def test_bad_authorization_headers(api: Api, header: str, code: str) -> None:
    response = await _profile(api, headers={"Authorization": header})
    assert_error(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_missing_token_is_auth_required(api: Api) -> None:
    assert_error(await _profile(api), 401, "AUTH_REQUIRED")


async def test_scheme_is_case_insensitive(api: Api) -> None:
    _, token = await api.user()
    for scheme in ("bearer", "BEARER", "Bearer"):
        response = await _profile(api, headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200


async def test_header_wins_over_query_token(api: Api) -> None:
    _, alice = await api.user("alice1")
    _, bob = await api.user("bob1")
    response = await _profile(api, headers=api.bearer(alice), params={"session_token": bob})
    assert response.json()["username"] == "alice1"
    bad_header = await _profile(
        api, headers=api.bearer("hyo_" + "B" * 43), params={"session_token": bob}
    )
    assert_error(bad_header, 401, "INVALID_TOKEN")


async def test_query_token_can_be_turned_off(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(allow_query_token=False))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user("headeronly")
        assert_error(await _profile(api, params={"session_token": token}), 401, "AUTH_REQUIRED")
        assert (await _profile(api, headers=api.bearer(token))).status_code == 200


async def test_expired_token_is_refused(app, api: Api) -> None:
    _, token = await api.user("expiring")
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    assert_error(await _profile(api, headers=api.bearer(token)), 401, "TOKEN_EXPIRED")


async def test_idle_expiry_when_configured(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(session_idle_days=7))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user("idler")
        assert (await _profile(api, headers=api.bearer(token))).status_code == 200
        async with app.state.services.sessionmaker() as session:
            await session.execute(
                update(UserSession).values(last_used_at=utcnow() - timedelta(days=8))
            )
            await session.commit()
        app.state.services.token_cache.forget_user(None)  # the row changed behind the server's back
        assert_error(await _profile(api, headers=api.bearer(token)), 401, "TOKEN_EXPIRED")


async def test_last_used_at_is_written_at_most_once_a_minute(app, api: Api) -> None:
    _, token = await api.user("tracked")

    async def last_used():
        async with app.state.services.sessionmaker() as session:
            return await session.scalar(select(UserSession.last_used_at))

    assert await last_used() is None
    await _profile(api, headers=api.bearer(token))
    first = await last_used()
    assert first is not None
    await _profile(api, headers=api.bearer(token))
    assert await last_used() == first
    async with app.state.services.sessionmaker() as session:
        await session.execute(update(UserSession).values(last_used_at=first - timedelta(minutes=2)))
        await session.commit()
    app.state.services.token_cache.forget_user(None)
    await _profile(api, headers=api.bearer(token))
    assert await last_used() > first - timedelta(minutes=1)


async def test_revoked_token_cannot_be_reused(api: Api) -> None:
    _, token = await api.user("revoker")
    assert (
        await api.client.post("/api/users/logout", headers=api.bearer(token))
    ).status_code == 204
    for _ in range(2):
        assert_error(await _profile(api, headers=api.bearer(token)), 401, "INVALID_TOKEN")
    assert_error(
        await api.client.post("/api/users/logout", headers=api.bearer(token)), 401, "INVALID_TOKEN"
    )


async def test_sessions_past_the_cap_revoke_the_least_recently_used(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(max_sessions_per_user=3))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        await api.register("capped")
        tokens = [await api.login("capped") for _ in range(3)]
        # Touch the first token so the second becomes the least recently used.
        await _profile(api, headers=api.bearer(tokens[0]))
        tokens.append(await api.login("capped"))
        assert_error(await _profile(api, headers=api.bearer(tokens[1])), 401, "INVALID_TOKEN")
        for token in (tokens[0], tokens[2], tokens[3]):
            assert (await _profile(api, headers=api.bearer(token))).status_code == 200
        listed = await client.get("/api/users/sessions", headers=api.bearer(tokens[3]))
        assert len(listed.json()) == 3
