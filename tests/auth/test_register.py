"""Registration: validation, uniqueness, password policy, mass assignment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from hyperoru.app import create_app
from hyperoru.auth.models import User
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import STRONG_PASSWORD, Api, assert_error


async def _register(api: Api, **body: object):
    return await api.client.post("/api/users/register", json=body)


async def test_fresh_database_has_no_users_and_no_default_admin(app, api: Api) -> None:
    async with app.state.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    response = await api.client.post(
        "/api/users/login", json={"username": "admin", "password": "admin"}
    )
    assert_error(response, 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    "username",
    ["ab", "x" * 33, "has space", "semi;colon", "x'); DROP TABLE users;--", "<script>", ""],
)
async def test_invalid_usernames_are_refused(api: Api, username: str) -> None:
    body = assert_error(
        await _register(api, username=username, password=STRONG_PASSWORD), 400, "VALIDATION_ERROR"
    )
    assert body["details"]["fields"][0]["field"] == "username"


async def test_usernames_are_unique_ignoring_case_and_unicode_width(api: Api) -> None:
    await api.register("Alice")
    for variant in ("alice", "ALICE", "\uff21\uff4c\uff49\uff43\uff45"):  # full-width "Alice"
        assert_error(
            await _register(api, username=variant, password=STRONG_PASSWORD), 409, "USERNAME_TAKEN"
        )


async def test_full_width_username_is_stored_in_its_nfkc_form(api: Api) -> None:
    created = await api.register("\uff22\uff4f\uff42")
    assert created["username"] == "Bob"


async def test_emails_are_unique_ignoring_case(api: Api) -> None:
    await api.register("first", email="Trader@Example.com")
    response = await _register(
        api, username="second", email="trader@example.COM", password=STRONG_PASSWORD
    )
    assert_error(response, 409, "EMAIL_TAKEN")


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "<script>@x.com", "a b@example.com"])
async def test_invalid_emails_are_refused(api: Api, email: str) -> None:
    response = await _register(api, username="someone", email=email, password=STRONG_PASSWORD)
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "password",
    [
        "short7!",
        "password123",
        "qwertyuiop",
        "12345678",
        "aaaaaaaaaa",
        "hyperoru2025!",
        "trader991234",
        "trader99",
    ],
)
async def test_weak_passwords_are_refused(api: Api, password: str) -> None:
    response = await _register(api, username="trader99", password=password)
    body = assert_error(response, 422, "WEAK_PASSWORD")
    assert "assword" in body["message"]


async def test_password_equal_to_email_local_part_is_refused(api: Api) -> None:
    response = await _register(
        api, username="someone", email="satoshinakamoto@example.com", password="satoshinakamoto"
    )
    assert_error(response, 422, "WEAK_PASSWORD")


@pytest.mark.parametrize("length", [8, 64, 256])
async def test_long_passphrases_are_accepted(api: Api, length: int) -> None:
    password = ("Tr4d3r-" * 40)[:length]
    await api.register(f"len{length}", password=password)
    await api.login(f"len{length}", password)


async def test_passwords_past_the_limit_are_refused_without_hashing(api: Api) -> None:
    assert_error(await _register(api, username="big1", password="x1" * 130), 422, "WEAK_PASSWORD")
    assert_error(
        await _register(api, username="big2", password="y" * 10_000), 400, "VALIDATION_ERROR"
    )


async def test_mass_assignment_of_server_fields_is_ignored(app, api: Api) -> None:
    response = await _register(
        api,
        username="sneaky",
        password=STRONG_PASSWORD,
        is_admin=True,
        is_active=False,
        id=999,
    )
    assert response.status_code == 201
    assert response.json()["is_active"] is True and response.json()["id"] != 999
    async with app.state.services.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.username == "sneaky"))
        assert user is not None and user.is_admin is False
    assert "password_hash" not in response.json()


async def test_wrong_types_are_validation_errors(api: Api) -> None:
    response = await api.client.post(
        "/api/users/register", json={"username": ["x"], "password": 12345678}
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert {f["field"] for f in body["details"]["fields"]} == {"username", "password"}


async def test_registration_can_be_closed(make_settings: Callable[..., Settings]) -> None:

    app = create_app(make_settings(registration="closed"))
    async with running(app), asgi_client(app) as client:
        response = await client.post(
            "/api/users/register", json={"username": "late", "password": STRONG_PASSWORD}
        )
        assert_error(response, 403, "REGISTRATION_CLOSED")
