"""Two-factor (TOTP) for users: enrolment, recovery codes, one use per code, throttling,
and no secret in an answer other than the one that hands it out, a log line or the
database. The clock is the app's (``Services.clock``), moved by the test."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI

from hyperoru.auth import recovery_codes, totp
from hyperoru.logging_setup import JsonFormatter
from hyperoru.settings import Settings
from tests.auth.totp_helpers import START, Clock, drive_clock, enrol, enrolled_user
from tests.helpers import STRONG_PASSWORD, Api, assert_error, stored_bytes

SETUP, ENABLE, DISABLE = (f"/api/users/mfa/totp/{step}" for step in ("setup", "enable", "disable"))


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return drive_clock(app)


# --- the pure parts ---------------------------------------------------------------------


def test_a_code_matches_its_step_and_one_step_either_side_only() -> None:
    secret = totp.new_secret()
    step = totp.time_step(START)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, totp.code_at(secret, step + offset), START) == (
            step + offset
        )
    for offset in (-3, -2, 2, 3):
        assert totp.matching_step(secret, totp.code_at(secret, step + offset), START) is None
    spaced = totp.code_at(secret, step)
    assert totp.matching_step(secret, f"{spaced[:3]} {spaced[3:]}", START) == step
    for junk in ("", "12345", "1234567", "abcdef", "12345\u0661"):
        assert totp.matching_step(secret, junk, START) is None


def test_recovery_codes_are_distinct_and_forgiving_to_type() -> None:
    codes = recovery_codes.new_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    code = codes[0]
    assert recovery_codes.normalized(code.upper().replace("-", " ")) == code
    assert recovery_codes.normalized("123456") is None


# --- enrolment --------------------------------------------------------------------------


async def test_enrolment_shows_the_secret_once_and_the_profile_says_enabled(
    app: FastAPI, api: Api, clock: Clock
) -> None:
    created, token = await api.user()
    headers = api.bearer(token)
    profile = await api.client.get("/api/users/profile", headers=headers)
    assert profile.json()["mfa_enabled"] is False

    setup = await api.client.post(SETUP, json={"password": STRONG_PASSWORD}, headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    uri = urlparse(setup.json()["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["Hyperoru"]
    assert created["username"] in uri.path
    # Pending until a code confirms it.
    profile = await api.client.get("/api/users/profile", headers=headers)
    assert profile.json()["mfa_enabled"] is False

    enabled = await api.client.post(ENABLE, json={"code": clock.code(secret)}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    codes = enabled.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10

    profile = await api.client.get("/api/users/profile", headers=headers)
    assert profile.json()["mfa_enabled"] is True
    login = await api.client.post(
        "/api/users/login", json={"username": created["username"], "password": STRONG_PASSWORD}
    )
    assert login.json()["user"]["mfa_enabled"] is True
    # Set up again while enabled: refused, the secret stays.
    again = await api.client.post(SETUP, json={"password": STRONG_PASSWORD}, headers=headers)
    assert_error(again, 409, "MFA_ALREADY_ENABLED")
    clock.advance()
    enable_again = await api.client.post(ENABLE, json={"code": clock.code(secret)}, headers=headers)
    assert_error(enable_again, 409, "MFA_ALREADY_ENABLED")


async def test_setup_needs_the_password_and_a_new_setup_replaces_a_pending_one(
    api: Api, clock: Clock
) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    wrong = await api.client.post(SETUP, json={"password": "not my password"}, headers=headers)
    assert_error(wrong, 403, "INVALID_CURRENT_PASSWORD")
    early = await api.client.post(ENABLE, json={"code": "123456"}, headers=headers)
    assert_error(early, 409, "MFA_NOT_SET_UP")

    first = await api.client.post(SETUP, json={"password": STRONG_PASSWORD}, headers=headers)
    second = await api.client.post(SETUP, json={"password": STRONG_PASSWORD}, headers=headers)
    old, new = first.json()["secret"], second.json()["secret"]
    assert old != new
    stale = await api.client.post(ENABLE, json={"code": clock.code(old)}, headers=headers)
    assert_error(stale, 403, "INVALID_TOTP")
    fresh = await api.client.post(ENABLE, json={"code": clock.code(new)}, headers=headers)
    assert fresh.status_code == 200, fresh.text


async def test_a_code_is_good_once_and_drift_of_one_step_is_allowed(api: Api, clock: Clock) -> None:
    user = await enrolled_user(api, clock)
    headers = api.bearer(user.token)
    # The code enable used (a step ago) is spent, and so is every older one.
    clock.advance(-totp.STEP_SECONDS)
    replayed = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(user.secret)},
        headers=headers,
    )
    assert_error(replayed, 403, "INVALID_TOTP")
    clock.advance(totp.STEP_SECONDS * 3)
    too_old = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(user.secret, steps=-2)},
        headers=headers,
    )
    assert_error(too_old, 403, "INVALID_TOTP")
    # A phone one step behind still works.
    behind = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(user.secret, steps=-1)},
        headers=headers,
    )
    assert behind.status_code == 204, behind.text
    profile = await api.client.get("/api/users/profile", headers=headers)
    assert profile.json()["mfa_enabled"] is False


async def test_disable_needs_the_password_and_a_code(api: Api, clock: Clock) -> None:
    user = await enrolled_user(api, clock)
    headers = api.bearer(user.token)
    wrong_password = await api.client.post(
        DISABLE,
        json={"password": "not my password", "code": clock.code(user.secret)},
        headers=headers,
    )
    assert_error(wrong_password, 403, "INVALID_CURRENT_PASSWORD")
    right = clock.code(user.secret)
    wrong = next(c for c in ("000000", "999999") if c != right)
    wrong_code = await api.client.post(
        DISABLE, json={"password": STRONG_PASSWORD, "code": wrong}, headers=headers
    )
    assert_error(wrong_code, 403, "INVALID_TOTP")
    missing = await api.client.post(DISABLE, json={"password": STRONG_PASSWORD}, headers=headers)
    assert_error(missing, 400, "VALIDATION_ERROR")
    # The wrong-password attempt did not spend the code.
    done = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(user.secret)},
        headers=headers,
    )
    assert done.status_code == 204, done.text
    again = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(user.secret)},
        headers=headers,
    )
    assert_error(again, 409, "MFA_NOT_ENABLED")


async def test_a_recovery_code_disables_once_and_dies_with_its_enrolment(
    api: Api, clock: Clock
) -> None:
    user = await enrolled_user(api, clock)
    headers = api.bearer(user.token)
    first = user.recovery_codes[0]
    # Two racing disables with one recovery code: exactly one wins.
    body = {"password": STRONG_PASSWORD, "code": first.upper().replace("-", " ")}
    answers = await asyncio.gather(
        api.client.post(DISABLE, json=body, headers=headers),
        api.client.post(DISABLE, json=body, headers=headers),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 204 and statuses[1] in (403, 409), [a.text for a in answers]

    again = await enrol(api, clock, token=user.token, username=user.username)
    for old in (first, user.recovery_codes[1]):
        refused = await api.client.post(
            DISABLE, json={"password": STRONG_PASSWORD, "code": old}, headers=headers
        )
        assert_error(refused, 403, "INVALID_TOTP")
    accepted = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": again.recovery_codes[-1]},
        headers=headers,
    )
    assert accepted.status_code == 204, accepted.text


async def test_wrong_codes_are_throttled_per_account_and_a_login_does_not_clear_them(
    api: Api, clock: Clock, settings: Settings
) -> None:
    user = await enrolled_user(api, clock)
    other = await enrolled_user(api, clock)
    headers = api.bearer(user.token)
    right = clock.code(user.secret)
    wrong = next(c for c in ("111111", "222222", "333333") if c != right)
    for _ in range(settings.login_failure_limit):
        refused = await api.client.post(
            DISABLE, json={"password": STRONG_PASSWORD, "code": wrong}, headers=headers
        )
        assert_error(refused, 403, "INVALID_TOTP")
    # The owner logging in (which clears failed logins) does not reopen guessing.
    await api.login(user.username)
    throttled = await api.client.post(
        DISABLE, json={"password": STRONG_PASSWORD, "code": right}, headers=headers
    )
    body = assert_error(throttled, 429, "LOGIN_THROTTLED")
    assert int(throttled.headers["retry-after"]) > 0 and body["details"]["retry_after"] > 0
    # Another account is not affected.
    fine = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(other.secret)},
        headers=api.bearer(other.token),
    )
    assert fine.status_code == 204, fine.text
    # The window passes (the limiter's own clock is wall time: checked by its own tests).


async def test_wrong_passwords_count_as_failed_logins(
    api: Api, clock: Clock, settings: Settings
) -> None:
    created, token = await api.user()
    headers = api.bearer(token)
    for _ in range(settings.login_failure_limit):
        refused = await api.client.post(SETUP, json={"password": "wrong one"}, headers=headers)
        assert_error(refused, 403, "INVALID_CURRENT_PASSWORD")
    login = await api.client.post(
        "/api/users/login", json={"username": created["username"], "password": STRONG_PASSWORD}
    )
    assert_error(login, 429, "LOGIN_THROTTLED")


async def test_no_secret_in_logs_other_answers_or_the_database(
    app: FastAPI, api: Api, clock: Clock, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        user = await enrolled_user(api, clock)
        headers = api.bearer(user.token)
        for path in ("/api/users/profile", "/api/users/sessions", "/api/account/list"):
            texts.append((await api.client.get(path, headers=headers)).text)
        # A failed disable's answer carries neither.
        texts.append(
            (
                await api.client.post(
                    DISABLE,
                    json={"password": "x", "code": user.recovery_codes[0]},
                    headers=headers,
                )
            ).text
        )
        raw = await stored_bytes(app, settings)
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    lines += [json.dumps(vars(r), default=str) for r in caplog.records]
    assert [r for r in caplog.records if getattr(r, "event", "") == "mfa_enabled"]
    for needle in (user.secret, *user.recovery_codes):
        assert not [line for line in lines if needle in line], needle
        assert not [text for text in texts if needle in text], needle
        assert needle.encode() not in raw, needle
        assert needle.replace("-", "").encode() not in raw, needle
    assert user.username.encode() in raw  # the dump really covers the users' rows


async def test_time_moves_only_with_the_app_clock(api: Api, clock: Clock) -> None:
    # A code from the driven clock's time works however far the wall clock is from it.
    clock.now = START + timedelta(days=400)
    user = await enrolled_user(api, clock)
    done = await api.client.post(
        DISABLE,
        json={"password": STRONG_PASSWORD, "code": clock.code(user.secret)},
        headers=api.bearer(user.token),
    )
    assert done.status_code == 204, done.text
