"""Two-factor in tests: a clock the test moves, and enrolling a user through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from hyperoru.app import replace_services
from hyperoru.auth import totp
from tests.helpers import STRONG_PASSWORD, Api

# On a step boundary, so "the current step" is never in doubt.
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = totp.STEP_SECONDS) -> None:
        self.now += timedelta(seconds=seconds)

    def code(self, secret: str, steps: int = 0) -> str:
        """The code an authenticator shows now (``steps`` off for a drifting one)."""
        return totp.code_at(secret, totp.time_step(self.now) + steps)


def drive_clock(app: FastAPI) -> Clock:
    clock = Clock()
    replace_services(app, clock=clock)
    return clock


@dataclass(frozen=True)
class Enrolled:
    token: str
    username: str
    secret: str
    recovery_codes: list[str]


async def enrol(api: Api, clock: Clock, *, token: str, username: str) -> Enrolled:
    """Set up and enable TOTP for the user; the clock moves past the code it used."""
    headers = api.bearer(token)
    setup = await api.client.post(
        "/api/users/mfa/totp/setup", json={"password": STRONG_PASSWORD}, headers=headers
    )
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    enabled = await api.client.post(
        "/api/users/mfa/totp/enable", json={"code": clock.code(secret)}, headers=headers
    )
    assert enabled.status_code == 200, enabled.text
    clock.advance()
    return Enrolled(token, username, secret, enabled.json()["recovery_codes"])


async def enrolled_user(api: Api, clock: Clock) -> Enrolled:
    created, token = await api.user()
    return await enrol(api, clock, token=token, username=created["username"])
