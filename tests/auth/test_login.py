"""Login: identifiers, exact password checks, enumeration resistance, hashing, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from hyperoru.auth import service
from hyperoru.auth.models import User
from tests.conftest import asgi_client
from tests.helpers import STRONG_PASSWORD, Api, assert_error

LONG_PASSWORD = (
    "a much longer passphrase that goes well past the old seventy-two byte cut of bcrypt"
)


async def _login(client, **body: object):
    return await client.post("/api/users/login", json=body)


async def test_login_by_username_email_or_login_field(api: Api) -> None:
    await api.register("Carol", email="carol@example.com")
    for body in (
        {"username": "carol"},
        {"username": "CAROL"},
        {"email": "Carol@Example.com"},
        {"login": "carol"},
        {"login": "carol@example.com"},
    ):
        response = await _login(api.client, password=STRONG_PASSWORD, **body)
        assert response.status_code == 200, (body, response.text)
        assert response.json()["user"]["username"] == "Carol"


async def test_login_without_identifier_is_a_validation_error(api: Api) -> None:
    assert_error(await _login(api.client, password=STRONG_PASSWORD), 400, "VALIDATION_ERROR")


async def test_every_login_mints_a_new_token_and_all_stay_valid(api: Api) -> None:
    await api.register("multi")
    first = await api.login("multi")
    second = await api.login("multi")
    assert first != second
    for token in (first, second):
        response = await api.client.get("/api/users/profile", headers=api.bearer(token))
        assert response.status_code == 200


async def test_token_lifetime_is_180_days(api: Api) -> None:
    await api.register("lifetime")
    response = await _login(api.client, username="lifetime", password=STRONG_PASSWORD)
    expires = datetime.fromisoformat(response.json()["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=180))) < timedelta(seconds=30)


@pytest.mark.parametrize(
    "attempt",
    [LONG_PASSWORD[:72], LONG_PASSWORD.upper(), LONG_PASSWORD + " ", " " + LONG_PASSWORD],
)
async def test_password_is_verified_exactly_as_sent(api: Api, attempt: str) -> None:
    await api.register("exact", password=LONG_PASSWORD)
    assert_error(
        await _login(api.client, username="exact", password=attempt), 401, "INVALID_CREDENTIALS"
    )
    assert (await _login(api.client, username="exact", password=LONG_PASSWORD)).status_code == 200


async def test_unknown_user_and_wrong_password_look_the_same(api: Api) -> None:
    await api.register("known")
    wrong = await _login(api.client, username="known", password="not the password")
    unknown = await _login(api.client, username="nobody-here", password="not the password")
    a = assert_error(wrong, 401, "INVALID_CREDENTIALS")
    b = assert_error(unknown, 401, "INVALID_CREDENTIALS")
    a.pop("request_id"), b.pop("request_id")
    assert a == b
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_unknown_user_still_costs_one_password_verification(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = service.passwords.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return original(password_hash, password)

    monkeypatch.setattr(service.passwords, "verify_password", counting)
    await api.register("counted")
    await _login(api.client, username="counted", password="wrong password here")
    await _login(api.client, username="ghost-user", password="wrong password here")
    assert len(calls) == 2 and all(h.startswith("$argon2id$") for h in calls)


async def test_oversized_login_password_is_refused_without_hashing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.register("huge")
    monkeypatch.setattr(
        service.passwords, "verify_password", lambda *_: pytest.fail("hasher was called")
    )
    response = await _login(api.client, username="huge", password="z" * 10_000)
    assert_error(response, 401, "INVALID_CREDENTIALS")


async def test_hash_is_argon2id_at_owasp_minimum_and_upgraded_on_login(app, api: Api) -> None:
    await api.register("hashy")
    async with app.state.services.sessionmaker() as session:
        stored = await session.scalar(select(User.password_hash).where(User.username == "hashy"))
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    weak_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(STRONG_PASSWORD)
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(User).where(User.username == "hashy").values(password_hash=weak_hash)
        )
        await session.commit()
    await api.login("hashy")
    async with app.state.services.sessionmaker() as session:
        upgraded = await session.scalar(select(User.password_hash).where(User.username == "hashy"))
    assert upgraded != weak_hash and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_deactivated_user_cannot_log_in_and_tokens_stop(app, api: Api) -> None:
    _, token = await api.user("leaver")
    async with app.state.services.sessionmaker() as session:
        user = await service.find_user(session, "leaver")
        assert user is not None
        await service.deactivate_user(session, user=user)
    assert_error(
        await _login(api.client, username="leaver", password=STRONG_PASSWORD),
        401,
        "INVALID_CREDENTIALS",
    )
    response = await api.client.get("/api/users/profile", headers=api.bearer(token))
    assert_error(response, 401, "INVALID_TOKEN")


async def test_account_is_throttled_after_ten_failures_whatever_the_ip(app, api: Api) -> None:
    await api.register("victim")
    for attempt in range(10):
        # A new client IP each time, so only the per-account counter can trigger.
        async with asgi_client(app, client_ip=f"198.51.100.{attempt + 1}") as client:
            response = await _login(client, username="victim", password="guess number x")
            assert_error(response, 401, "INVALID_CREDENTIALS")
    async with asgi_client(app, client_ip="198.51.100.200") as client:
        throttled = await _login(client, username="victim", password=STRONG_PASSWORD)
        body = assert_error(throttled, 429, "LOGIN_THROTTLED")
        assert int(throttled.headers["retry-after"]) > 0

    # The same answer for an account that does not exist.
    for attempt in range(10):
        async with asgi_client(app, client_ip=f"192.0.2.{attempt + 1}") as client:
            await _login(client, username="phantom", password="guess number x")
    async with asgi_client(app, client_ip="192.0.2.200") as client:
        ghost = assert_error(
            await _login(client, username="phantom", password=STRONG_PASSWORD),
            429,
            "LOGIN_THROTTLED",
        )
    body.pop("request_id"), ghost.pop("request_id")
    body["details"].pop("retry_after"), ghost["details"].pop("retry_after")
    assert body == ghost


async def test_success_resets_the_failure_count(app, api: Api) -> None:
    await api.register("forgetful")
    for round_ in range(2):
        for attempt in range(9):
            async with asgi_client(app, client_ip=f"198.18.{round_}.{attempt + 1}") as client:
                await _login(client, username="forgetful", password="wrong guess one")
        async with asgi_client(app, client_ip=f"198.18.{round_}.100") as client:
            ok = await _login(client, username="forgetful", password=STRONG_PASSWORD)
            assert ok.status_code == 200


async def test_login_attempts_per_ip_are_limited(api: Api) -> None:
    await api.register("busy")
    statuses = [
        (await _login(api.client, username="busy", password=STRONG_PASSWORD)).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    limited = await _login(api.client, username="busy", password=STRONG_PASSWORD)
    assert_error(limited, 429, "RATE_LIMITED")
    assert limited.headers["x-ratelimit-limit"] == "10"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["retry-after"]) >= 1


async def test_spoofed_forwarded_for_does_not_escape_the_ip_limit(api: Api) -> None:
    await api.register("spoofer")
    statuses = []
    for attempt in range(12):
        response = await api.client.post(
            "/api/users/login",
            json={"username": "spoofer", "password": STRONG_PASSWORD},
            headers={"X-Forwarded-For": f"10.0.0.{attempt}"},
        )
        statuses.append(response.status_code)
    assert statuses.count(429) == 2
