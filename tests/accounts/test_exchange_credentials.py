"""A trader's exchange credentials: two-factor to save or delete, checked at the venue
(through a seam double of ``Services.venues``), sealed, shown masked, and never in an
answer, a log line or the database in plain text."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from eth_account import Account as EthAccount
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.accounts import exchange_credentials
from hyperoru.accounts.models import Account
from hyperoru.exchanges.venue import (
    BinanceCredentials,
    CredentialCheck,
    HyperliquidCredentials,
    VenueError,
)
from hyperoru.logging_setup import JsonFormatter
from hyperoru.settings import Settings
from hyperoru.vault.models import StoredSecret
from tests.accounts.helpers import create_trader
from tests.accounts.venue_double import (
    AGENT_KEY,
    BINANCE_KEY,
    BINANCE_SECRET,
    MASTER,
    ScriptedVenue,
    binance_body,
    hyperliquid_body,
    script_venues,
)
from tests.auth.totp_helpers import Clock, Enrolled, drive_clock, enrolled_user
from tests.helpers import Api, assert_error, stored_bytes

AGENT_ADDRESS = str(EthAccount.from_key(AGENT_KEY).address).lower()
SECRETS = (AGENT_KEY, AGENT_KEY[2:], BINANCE_SECRET, BINANCE_KEY)


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return drive_clock(app)


@pytest.fixture
def venue(app: FastAPI) -> ScriptedVenue:
    return script_venues(app)


@pytest.fixture
async def owner(api: Api, clock: Clock) -> Enrolled:
    return await enrolled_user(api, clock)


async def _trader(api: Api, owner: Enrolled) -> int:
    return (await create_trader(api, owner.token))["id"]


async def _secret_fields(app: FastAPI, account_id: int) -> set[str]:
    async with app.state.services.sessionmaker() as session:
        rows = await session.scalars(
            select(StoredSecret.field).where(
                StoredSecret.scope == "account", StoredSecret.scope_id == account_id
            )
        )
        return set(rows.all())


async def test_saving_needs_two_factor_and_a_fresh_code(
    api: Api, clock: Clock, venue: ScriptedVenue
) -> None:
    _, plain_token = await api.user()
    trader = (await create_trader(api, plain_token))["id"]
    url = f"/api/account/{trader}/exchange"
    refused = await api.client.put(
        url, json=hyperliquid_body("123456"), headers=api.bearer(plain_token)
    )
    assert_error(refused, 403, "MFA_REQUIRED")

    owner = await enrolled_user(api, clock)
    mine = await _trader(api, owner)
    url, headers = f"/api/account/{mine}/exchange", api.bearer(owner.token)
    body = hyperliquid_body(clock.code(owner.secret))
    missing = await api.client.put(url, json={**body, "totp_code": None}, headers=headers)
    assert_error(missing, 403, "INVALID_TOTP")
    wrong = "000000" if clock.code(owner.secret) != "000000" else "111111"
    wrong_code = await api.client.put(url, json={**body, "totp_code": wrong}, headers=headers)
    assert_error(wrong_code, 403, "INVALID_TOTP")
    assert venue.seen == []  # no code, no call to the venue

    saved = await api.client.put(url, json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    replayed = await api.client.put(url, json=body, headers=headers)
    assert_error(replayed, 403, "INVALID_TOTP")
    assert len(venue.seen) == 1 and venue.closed == 1


async def test_hyperliquid_credentials_are_checked_sealed_and_shown_masked(
    app: FastAPI, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    before = await api.client.get(url, headers=headers)
    assert before.json() == {
        "account_id": trader,
        "connected": False,
        "exchange": None,
        "environment": None,
        "master_address": None,
        "agent_address": None,
        "api_key_hint": None,
        "validated_at": None,
        "problems": [],
    }
    saved = await api.client.put(
        url, json=hyperliquid_body(clock.code(owner.secret)), headers=headers
    )
    assert saved.status_code == 200, saved.text
    shown = saved.json()
    assert shown["connected"] is True and shown["exchange"] == "hyperliquid"
    assert shown["environment"] == "testnet"  # the default
    assert shown["master_address"] == MASTER.lower()
    assert shown["agent_address"] == AGENT_ADDRESS
    assert shown["api_key_hint"] is None and shown["validated_at"].endswith("Z")
    assert (await api.client.get(url, headers=headers)).json() == shown
    assert venue.seen == [
        HyperliquidCredentials(
            environment="testnet", master_address=MASTER.lower(), agent_private_key=AGENT_KEY
        )
    ]
    account = (await api.client.get(f"/api/account/{trader}", headers=headers)).json()
    assert account["hyperliquid_enabled"] is True
    assert account["hyperliquid_environment"] == "testnet"
    assert account["exchange"] == "hyperliquid"
    assert await _secret_fields(app, trader) == {"exchange_agent_private_key"}

    async with app.state.services.sessionmaker() as session:
        row = await session.get(Account, trader)
        assert row is not None
        opened = await exchange_credentials.read_venue_credentials(
            session, app.state.services.secret_box, account=row
        )
    assert opened == venue.seen[0]


async def test_binance_replaces_hyperliquid_and_shows_a_key_hint(
    app: FastAPI, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    first = await api.client.put(
        url,
        json=hyperliquid_body(clock.code(owner.secret), environment="mainnet"),
        headers=headers,
    )
    assert first.json()["environment"] == "mainnet"
    clock.advance()
    saved = await api.client.put(url, json=binance_body(clock.code(owner.secret)), headers=headers)
    assert saved.status_code == 200, saved.text
    shown = saved.json()
    assert shown["exchange"] == "binance" and shown["environment"] == "demo"  # the default
    assert shown["api_key_hint"] == BINANCE_KEY[-4:]
    assert shown["master_address"] is None and shown["agent_address"] is None
    assert venue.seen[-1] == BinanceCredentials(
        environment="demo", api_key=BINANCE_KEY, api_secret=BINANCE_SECRET
    )
    assert await _secret_fields(app, trader) == {"exchange_api_key", "exchange_api_secret"}
    account = (await api.client.get(f"/api/account/{trader}", headers=headers)).json()
    assert account["exchange"] == "binance"
    assert account["hyperliquid_enabled"] is False and account["hyperliquid_environment"] is None


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        (CredentialCheck(problems=("the account is in hedge mode",)), "hedge mode"),
        (CredentialCheck(problems=(), can_withdraw=True), "withdraw"),
    ],
)
async def test_credentials_the_venue_finds_wrong_are_refused_and_not_kept(
    app: FastAPI,
    api: Api,
    clock: Clock,
    venue: ScriptedVenue,
    owner: Enrolled,
    check: CredentialCheck,
    problem: str,
) -> None:
    venue.check = check
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    refused = await api.client.put(
        url, json=binance_body(clock.code(owner.secret)), headers=headers
    )
    body = assert_error(refused, 422, "EXCHANGE_CREDENTIALS_INVALID")
    assert any(problem in p for p in body["details"]["problems"]), body
    assert (await api.client.get(url, headers=headers)).json()["connected"] is False
    assert await _secret_fields(app, trader) == set()


async def test_an_unreachable_venue_saves_nothing(
    app: FastAPI, api: Api, clock: Clock, owner: Enrolled
) -> None:
    # The server's own connector: no venue package is merged yet, so it is unavailable.
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    refused = await api.client.put(
        url, json=hyperliquid_body(clock.code(owner.secret)), headers=headers
    )
    assert_error(refused, 503, "VENUE_UNAVAILABLE")
    assert (await api.client.get(url, headers=headers)).json()["connected"] is False
    assert await _secret_fields(app, trader) == set()


async def test_venue_refusals_map_to_our_codes_without_echoing_secrets(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    venue.error = VenueError("VENUE_RATE_LIMITED", "slow down", retry_after=7.2)
    limited = await api.client.put(
        url, json=binance_body(clock.code(owner.secret)), headers=headers
    )
    assert_error(limited, 503, "VENUE_UNAVAILABLE")
    assert limited.headers["retry-after"] == "7"
    clock.advance()
    venue.error = VenueError("VENUE_AUTH", f"Invalid API-key {BINANCE_KEY}, IP, or permissions")
    refused = await api.client.put(
        url, json=binance_body(clock.code(owner.secret)), headers=headers
    )
    body = assert_error(refused, 422, "EXCHANGE_CREDENTIALS_INVALID")
    assert "Invalid API-key ***" in body["details"]["problems"][0]
    assert BINANCE_KEY not in refused.text


async def test_the_master_key_itself_is_refused_before_a_code_is_spent(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    code = clock.code(owner.secret)
    master_key = await api.client.put(
        url,
        json=hyperliquid_body(code, master_address=AGENT_ADDRESS.upper().replace("0X", "0x")),
        headers=headers,
    )
    body = assert_error(master_key, 422, "EXCHANGE_CREDENTIALS_INVALID")
    assert "agent" in body["message"] and AGENT_KEY[2:] not in master_key.text
    assert venue.seen == []
    fine = await api.client.put(url, json=hyperliquid_body(code), headers=headers)
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    "key",
    [
        "0x" + "00" * 32,
        "0x" + "ff" * 32,
        # The curve's order itself.
        "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
    ],
)
async def test_a_number_that_is_no_private_key_is_refused_without_echo(
    api: Api,
    clock: Clock,
    venue: ScriptedVenue,
    owner: Enrolled,
    key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trader = await _trader(api, owner)
    with caplog.at_level(logging.DEBUG):
        refused = await api.client.put(
            f"/api/account/{trader}/exchange",
            json=hyperliquid_body(clock.code(owner.secret), agent_private_key=key),
            headers=api.bearer(owner.token),
        )
    body = assert_error(refused, 422, "EXCHANGE_CREDENTIALS_INVALID")
    assert "not a valid private key" in body["message"]
    assert key[2:].lower() not in refused.text.lower()
    assert key[2:].lower() not in caplog.text.lower() and venue.seen == []


@pytest.mark.parametrize(
    "changes",
    [
        {"master_address": "0x1234"},
        {"master_address": MASTER + "00"},
        {"agent_private_key": AGENT_KEY[:-1]},
        {"agent_private_key": AGENT_KEY[2:]},
        {"agent_private_key": AGENT_KEY[:-1] + "g"},
        {"environment": "demo"},
        {"exchange": "kraken"},
    ],
)
async def test_malformed_hyperliquid_input_is_refused_without_echo(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled, changes: dict[str, str]
) -> None:
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    refused = await api.client.put(
        url, json=hyperliquid_body(clock.code(owner.secret), **changes), headers=headers
    )
    assert_error(refused, 400, "VALIDATION_ERROR")
    for secret in (AGENT_KEY[2:40], AGENT_KEY[3:-1]):
        assert secret not in refused.text
    assert venue.seen == []


@pytest.mark.parametrize(
    "changes",
    [
        {"api_key": "short"},
        {"api_secret": BINANCE_SECRET + "!"},
        {"api_key": "x" * 129},
        {"environment": "moon"},
    ],
)
async def test_malformed_binance_input_is_refused(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled, changes: dict[str, str]
) -> None:
    trader = await _trader(api, owner)
    refused = await api.client.put(
        f"/api/account/{trader}/exchange",
        json=binance_body(clock.code(owner.secret), **changes),
        headers=api.bearer(owner.token),
    )
    assert_error(refused, 400, "VALIDATION_ERROR")
    assert BINANCE_SECRET[5:30] not in refused.text and venue.seen == []


async def test_a_pasted_key_with_a_newline_is_accepted(
    api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    body = binance_body(clock.code(owner.secret), api_secret=f" {BINANCE_SECRET}\n")
    saved = await api.client.put(
        f"/api/account/{trader}/exchange", json=body, headers=api.bearer(owner.token)
    )
    assert saved.status_code == 200, saved.text
    assert isinstance(venue.seen[0], BinanceCredentials)
    assert venue.seen[0].api_secret == BINANCE_SECRET


async def test_deleting_needs_a_fresh_code_and_clears_the_trader_fields(
    app: FastAPI, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    await api.client.put(url, json=hyperliquid_body(clock.code(owner.secret)), headers=headers)
    clock.advance()
    no_code = await api.client.delete(url, headers=headers)
    assert_error(no_code, 403, "INVALID_TOTP")
    deleted = await api.client.request(
        "DELETE", url, json={"totp_code": clock.code(owner.secret)}, headers=headers
    )
    assert deleted.status_code == 204, deleted.text
    assert (await api.client.get(url, headers=headers)).json()["connected"] is False
    assert await _secret_fields(app, trader) == set()
    account = (await api.client.get(f"/api/account/{trader}", headers=headers)).json()
    assert account["hyperliquid_enabled"] is False and account["hyperliquid_environment"] is None
    gone = await api.client.delete(url, params={"totp_code": "123456"}, headers=headers)
    assert_error(gone, 404, "EXCHANGE_CREDENTIALS_NOT_FOUND")

    # The code may come in the query string too.
    clock.advance()
    await api.client.put(url, json=binance_body(clock.code(owner.secret)), headers=headers)
    clock.advance()
    by_query = await api.client.delete(
        url, params={"totp_code": clock.code(owner.secret)}, headers=headers
    )
    assert by_query.status_code == 204, by_query.text


async def test_another_users_trader_is_out_of_reach(
    app: FastAPI, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    url = f"/api/account/{trader}/exchange"
    await api.client.put(
        url, json=hyperliquid_body(clock.code(owner.secret)), headers=api.bearer(owner.token)
    )
    intruder = await enrolled_user(api, clock)
    headers = api.bearer(intruder.token)
    code = clock.code(intruder.secret)
    for method, kwargs in (
        ("GET", {}),
        ("PUT", {"json": binance_body(code)}),
        ("DELETE", {"json": {"totp_code": code}}),
    ):
        response = await api.client.request(method, url, headers=headers, **kwargs)
        assert_error(response, 403, "FORBIDDEN")
    assert len(venue.seen) == 1
    mine = await api.client.get(url, headers=api.bearer(owner.token))
    assert mine.json()["exchange"] == "hyperliquid"


async def test_deleting_a_trader_wipes_its_credentials(
    app: FastAPI, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    trader = await _trader(api, owner)
    headers = api.bearer(owner.token)
    await api.client.put(
        f"/api/account/{trader}/exchange",
        json=binance_body(clock.code(owner.secret)),
        headers=headers,
    )
    assert (await api.client.delete(f"/api/account/{trader}", headers=headers)).status_code == 204
    assert await _secret_fields(app, trader) == set()
    async with app.state.services.sessionmaker() as session:
        row = await session.get(Account, trader)
        assert row is not None
        assert await exchange_credentials.credential_of(session, trader) is None


async def test_secrets_never_reach_an_answer_a_log_line_or_the_database(
    app: FastAPI,
    api: Api,
    clock: Clock,
    venue: ScriptedVenue,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        owner = await enrolled_user(api, clock)
        trader = await _trader(api, owner)
        url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
        steps = [
            ("PUT", url, hyperliquid_body(clock.code(owner.secret))),
            ("PUT", url, binance_body("000000")),  # a wrong (or replayed) code
            ("PUT", url, hyperliquid_body("1", agent_private_key=AGENT_KEY + "0")),  # shape
            ("GET", url, None),
            ("GET", f"/api/account/{trader}", None),
            ("GET", "/api/account/list", None),
        ]
        for method, path, body in steps:
            response = await api.client.request(method, path, json=body, headers=headers)
            assert response.status_code < 500, response.text
            texts.append(response.text)
        clock.advance()
        second = await api.client.put(
            url, json=binance_body(clock.code(owner.secret)), headers=headers
        )
        assert second.status_code == 200, second.text
        texts.append(second.text)
        raw = await stored_bytes(app, settings)
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    lines += [json.dumps(vars(r), default=str) for r in caplog.records]
    assert [r for r in caplog.records if getattr(r, "event", "") == "exchange_credentials_saved"]
    for needle in SECRETS:
        assert not [line for line in lines if needle in line], needle
        assert not [text for text in texts if needle in text], needle
        assert needle.encode() not in raw, needle
    assert BINANCE_KEY[-4:] in second.text


async def test_two_saves_at_once_leave_one_connection(
    app: FastAPI, api: Api, clock: Clock, venue: ScriptedVenue, owner: Enrolled
) -> None:
    # Codes of this step and the next are both good (drift), so both may pass.
    trader = await _trader(api, owner)
    url, headers = f"/api/account/{trader}/exchange", api.bearer(owner.token)
    answers = await asyncio.gather(
        api.client.put(url, json=hyperliquid_body(clock.code(owner.secret)), headers=headers),
        api.client.put(url, json=binance_body(clock.code(owner.secret, 1)), headers=headers),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([200, 200], [200, 403]), [a.text for a in answers]
    shown = (await api.client.get(url, headers=headers)).json()
    assert shown["connected"] is True
    expected = {
        "hyperliquid": {"exchange_agent_private_key"},
        "binance": {"exchange_api_key", "exchange_api_secret"},
    }
    assert await _secret_fields(app, trader) == expected[shown["exchange"]]
    account = (await api.client.get(f"/api/account/{trader}", headers=headers)).json()
    assert account["exchange"] == shown["exchange"]
