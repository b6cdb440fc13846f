"""Switching a trader to live: the operator's flag, credentials for its exchange and a
fresh two-factor code; back to paper needs nothing. ``hyperliquid_enabled`` and
``hyperliquid_environment`` say what the stored credentials are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.accounts.venue_double import (
    ScriptedVenue,
    binance_body,
    hyperliquid_body,
    script_venues,
)
from tests.auth.totp_helpers import Clock, Enrolled, drive_clock, enrolled_user
from tests.helpers import STRONG_PASSWORD, Api, assert_error


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(live_trading="enabled")


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return drive_clock(app)


@pytest.fixture
def venue(app: FastAPI) -> ScriptedVenue:
    return script_venues(app)


@pytest.fixture
async def owner(api: Api, clock: Clock) -> Enrolled:
    return await enrolled_user(api, clock)


async def _connected_trader(
    api: Api, clock: Clock, owner: Enrolled, body: Callable[..., dict[str, str]]
) -> int:
    trader = (await create_trader(api, owner.token))["id"]
    saved = await api.client.put(
        f"/api/account/{trader}/exchange",
        json=body(clock.code(owner.secret)),
        headers=api.bearer(owner.token),
    )
    assert saved.status_code == 200, saved.text
    clock.advance()
    return trader


async def _put(api: Api, owner: Enrolled, trader: int, **body: Any) -> Any:
    return await api.client.put(
        f"/api/account/{trader}", json=body, headers=api.bearer(owner.token)
    )


async def test_live_needs_credentials_and_a_fresh_code(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    bare = (await create_trader(api, owner.token))["id"]
    missing = await _put(api, owner, bare, execution_mode="live", totp_code="123456")
    body = assert_error(missing, 409, "EXCHANGE_CREDENTIALS_MISSING")
    assert body["details"]["exchange"] == "hyperliquid"

    trader = await _connected_trader(api, clock, owner, hyperliquid_body)
    no_code = await _put(api, owner, trader, execution_mode="live")
    assert_error(no_code, 403, "INVALID_TOTP")
    code = clock.code(owner.secret)
    wrong = "000000" if code != "000000" else "111111"
    assert_error(
        await _put(api, owner, trader, execution_mode="live", totp_code=wrong), 403, "INVALID_TOTP"
    )
    live = await _put(api, owner, trader, execution_mode="live", totp_code=code)
    assert live.status_code == 200, live.text
    assert live.json()["execution_mode"] == "live"

    # Staying live needs nothing (clients send back what they read), nor does paper.
    read = await api.client.get(f"/api/account/{trader}", headers=api.bearer(owner.token))
    again = await api.client.put(
        f"/api/account/{trader}", json=read.json(), headers=api.bearer(owner.token)
    )
    assert again.status_code == 200, again.text
    paper = await _put(api, owner, trader, execution_mode="paper")
    assert paper.status_code == 200 and paper.json()["execution_mode"] == "paper"

    # The code that switched it once is spent.
    replay = await _put(api, owner, trader, execution_mode="live", totp_code=code)
    assert_error(replay, 403, "INVALID_TOTP")


async def test_without_two_factor_live_is_refused(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _connected_trader(api, clock, owner, binance_body)
    disabled = await api.client.post(
        "/api/users/mfa/totp/disable",
        json={"password": STRONG_PASSWORD, "code": clock.code(owner.secret)},
        headers=api.bearer(owner.token),
    )
    assert disabled.status_code == 204, disabled.text
    clock.advance()
    refused = await _put(
        api, owner, trader, execution_mode="live", totp_code=clock.code(owner.secret)
    )
    assert_error(refused, 403, "MFA_REQUIRED")


async def test_credentials_must_be_for_the_traders_exchange(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _connected_trader(api, clock, owner, binance_body)
    other = await _put(
        api,
        owner,
        trader,
        exchange="hyperliquid",
        execution_mode="live",
        totp_code=clock.code(owner.secret),
    )
    assert_error(other, 409, "EXCHANGE_CREDENTIALS_MISSING")
    unchanged = await api.client.get(f"/api/account/{trader}", headers=api.bearer(owner.token))
    assert unchanged.json()["exchange"] == "binance"
    assert unchanged.json()["execution_mode"] == "paper"
    # The refused request spent no code.
    live = await _put(api, owner, trader, execution_mode="live", totp_code=clock.code(owner.secret))
    assert live.status_code == 200, live.text


async def test_a_live_trader_keeps_its_credentials_and_exchange(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _connected_trader(api, clock, owner, hyperliquid_body)
    headers = api.bearer(owner.token)
    live = await _put(api, owner, trader, execution_mode="live", totp_code=clock.code(owner.secret))
    assert live.status_code == 200, live.text
    clock.advance()
    url = f"/api/account/{trader}/exchange"
    code = clock.code(owner.secret)
    assert_error(
        await api.client.request("DELETE", url, json={"totp_code": code}, headers=headers),
        409,
        "TRADER_IS_LIVE",
    )
    assert_error(
        await api.client.put(url, json=binance_body(code), headers=headers),
        409,
        "TRADER_IS_LIVE",
    )
    assert_error(
        await api.client.delete(f"/api/account/{trader}", headers=headers), 409, "TRADER_IS_LIVE"
    )
    # Rotating the same exchange's keys is allowed (with a code).
    rotated = await api.client.put(
        url, json=hyperliquid_body(code, environment="mainnet"), headers=headers
    )
    assert rotated.status_code == 200, rotated.text
    account = (await api.client.get(f"/api/account/{trader}", headers=headers)).json()
    assert account["execution_mode"] == "live"
    assert account["hyperliquid_environment"] == "mainnet"


async def test_hyperliquid_fields_follow_the_stored_credentials(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    headers = api.bearer(owner.token)
    created = await api.client.post(
        "/api/account/", json={"name": "x", "hyperliquid_enabled": True}, headers=headers
    )
    assert_error(created, 409, "EXCHANGE_CREDENTIALS_MISSING")
    created = await api.client.post(
        "/api/account/", json={"name": "x", "hyperliquid_environment": "mainnet"}, headers=headers
    )
    assert_error(created, 409, "EXCHANGE_CREDENTIALS_MISSING")
    plain = await create_trader(api, owner.token, hyperliquid_enabled=False)
    assert plain["hyperliquid_enabled"] is False and plain["hyperliquid_environment"] is None
    assert_error(
        await _put(api, owner, plain["id"], hyperliquid_enabled=True),
        409,
        "EXCHANGE_CREDENTIALS_MISSING",
    )

    trader = await _connected_trader(api, clock, owner, hyperliquid_body)
    same = await _put(
        api, owner, trader, hyperliquid_enabled=True, hyperliquid_environment="testnet"
    )
    assert same.status_code == 200, same.text
    for change in ({"hyperliquid_enabled": False}, {"hyperliquid_environment": "mainnet"}):
        refused = await _put(api, owner, trader, **change)
        body = assert_error(refused, 400, "VALIDATION_ERROR")
        assert body["details"]["fields"][0]["field"] == next(iter(change))


async def test_the_llm_alias_never_changes_the_execution_mode(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _connected_trader(api, clock, owner, hyperliquid_body)
    response = await api.client.put(
        f"/api/traders/{trader}/llm",
        json={"model": "m", "execution_mode": "live"},
        headers=api.bearer(owner.token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["execution_mode"] == "paper"


async def test_a_trader_cannot_be_created_live(api: Api, owner: Enrolled) -> None:
    for path in ("/api/account/", "/api/traders"):
        created = await api.client.post(
            path, json={"name": "x", "execution_mode": "live"}, headers=api.bearer(owner.token)
        )
        assert_error(created, 409, "EXCHANGE_CREDENTIALS_MISSING")


class TestWithoutTheOperatorsFlag:
    @pytest.fixture
    def settings(self, make_settings: Callable[..., Settings]) -> Settings:
        return make_settings()  # live_trading defaults to disabled

    async def test_live_is_refused_before_anything_else(
        self, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
    ) -> None:
        trader = await _connected_trader(api, clock, owner, hyperliquid_body)
        code = clock.code(owner.secret)
        refused = await _put(api, owner, trader, execution_mode="live", totp_code=code)
        assert_error(refused, 403, "LIVE_TRADING_DISABLED")
        read = await api.client.get(f"/api/account/{trader}", headers=api.bearer(owner.token))
        assert read.json()["execution_mode"] == "paper"
        # Credentials can still be managed; the refusal spent no code.
        replaced = await api.client.put(
            f"/api/account/{trader}/exchange",
            json=binance_body(code),
            headers=api.bearer(owner.token),
        )
        assert replaced.status_code == 200, replaced.text
