"""Live trading from the pages, against the loopback Hyperliquid fake (a real HTTP server
that checks every signature): enrol two-factor with a code computed here, connect a trader
to the venue, switch it to live, see the venue's position, and stop it with the kill
switch after its confirmation step; a difference reconciliation finds is pushed to the page.
Wrong and reused codes show the API's refusal.

The server's two-factor clock is the test's (``drive_clock``): each code is computed for
the step the test chose, and the step moves on only when the test says."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyotp
import pytest
from eth_account import Account as EthAccount

from hyperoru.app import replace_services
from hyperoru.auth import totp
from hyperoru.trading.live.reconcile import reconcile
from tests.accounts.helpers import create_trader
from tests.auth.totp_helpers import Clock
from tests.dashboard.conftest import Browser, Demo, open_page, screenshot, sign_in
from tests.fakes.binance_venue import FakeBinanceFutures, fake_binance_futures
from tests.fakes.hyperliquid_venue import FakeHyperliquid, FakePosition, fake_hyperliquid
from tests.trading.helpers import Trader

pytestmark = pytest.mark.browser

MASTER = "0x" + "ab" * 20
REFUSED_CODE = "The two-factor code is missing, wrong or already used"


@pytest.fixture
async def venue() -> AsyncIterator[FakeHyperliquid]:
    async with fake_hyperliquid() as fake:
        fake.open_account(MASTER)
        fake.set_mid("BTC", "100000")
        yield fake


@pytest.fixture
async def binance() -> AsyncIterator[FakeBinanceFutures]:
    async with fake_binance_futures(wall_clock=True) as fake:
        fake.set_mark("BTC", "100000")
        yield fake


@pytest.fixture
def demo_settings(venue: FakeHyperliquid, binance: FakeBinanceFutures) -> dict[str, Any]:
    return {
        "live_trading": "enabled",
        "hyperliquid_base_url": venue.base_url,
        "binance_futures_base_url": binance.base_url,
    }


def two_factor_clock(demo: Demo) -> Clock:
    """The server's clock for two-factor: now, on a step boundary, moved by the test."""
    step = totp.time_step(datetime.now(UTC))
    clock = Clock(datetime.fromtimestamp(step * totp.STEP_SECONDS, UTC))
    replace_services(demo.server.app, clock=clock)
    return clock


def code(secret: str, clock: Clock) -> str:
    """What an authenticator app shows at the clock's time (pyotp, not the server's code)."""
    return pyotp.TOTP(secret).at(clock.now)


def wrong_code(secret: str, clock: Clock) -> str:
    """Six digits that no step the server accepts around now would give."""
    accepted = {pyotp.TOTP(secret).at(clock.now, counter_offset=k) for k in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in accepted)


async def api_get(demo: Demo, token: str, path: str) -> Any:
    response = await demo.server.http.get(path, headers=demo.server.api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_enrol_two_factor_connect_the_venue_go_live_and_kill(
    demo: Demo, browser: Browser, venue: FakeHyperliquid
) -> None:
    clock = two_factor_clock(demo)
    token = await demo.token()
    account = await create_trader(demo.server.api, token, name="Venue trader")
    agent = EthAccount.create()
    agent_key = "0x" + agent.key.hex().removeprefix("0x")
    venue.approve_agent(MASTER, agent.address)

    page, watch = await browser.page()
    watch.allowed_statuses.add(403)  # the refusals this test provokes on purpose
    await sign_in(page, demo.url, "demo", demo.password)

    # Enrol: the page shows the secret and its otpauth link; a wrong code is refused with
    # the API's message; the authenticator's code turns it on and shows recovery codes.
    await page.get_by_role("link", name="Security").click()
    await page.wait_for_selector('#main[data-page="security"][data-ready="true"]')
    assert await page.locator("#mfa-state").inner_text() == (
        "Two-factor is off. Live trading and exchange credentials need it."
    )
    await page.locator("#totp-setup-form").get_by_label("Password").fill(demo.password)
    await page.get_by_role("button", name="Set up two-factor").click()
    secret = await page.locator("#totp-secret").inner_text()
    uri = await page.locator("#totp-uri").get_attribute("href")
    assert uri is not None and uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    await screenshot(page, "security-setup-1280")
    enable = page.locator("#totp-enable-form")
    await enable.get_by_label("Code from your authenticator").fill(wrong_code(secret, clock))
    await enable.get_by_role("button", name="Turn on two-factor").click()
    await page.locator("#toast").filter(has_text=REFUSED_CODE).wait_for()
    assert not (await api_get(demo, token, "/api/users/profile"))["mfa_enabled"]
    await enable.get_by_label("Code from your authenticator").fill(code(secret, clock))
    await enable.get_by_role("button", name="Turn on two-factor").click()
    await page.locator("#recovery-codes").wait_for()
    assert await page.locator("#recovery-codes li").count() == 10
    assert (await api_get(demo, token, "/api/users/profile"))["mfa_enabled"]
    clock.advance()

    # Connect: the trader's page links to its live page; the key is written, never shown.
    await open_page(page, f"#/trader/{account['id']}", "trader")
    await page.locator("#trader-live-link").click()
    await page.wait_for_selector('#main[data-page="live trading"][data-ready="true"]')
    assert await page.locator("#mfa-missing").is_hidden()
    assert await page.locator("#execution-mode").get_attribute("data-mode") == "paper"
    connect = page.locator("#exchange-credentials-form")
    await connect.get_by_label("Exchange").select_option("hyperliquid")
    await connect.get_by_label("Environment").select_option("testnet")
    await connect.get_by_label("Account address").fill(MASTER)
    await connect.get_by_label("API wallet private key").fill(agent_key)
    used = code(secret, clock)
    await connect.get_by_label("Two-factor code").fill(used)
    await connect.get_by_role("button", name="Check and save").click()
    await page.locator("#exchange-state").filter(has_text=agent.address.lower()).wait_for()
    shown = await api_get(demo, token, f"/api/account/{account['id']}/exchange")
    assert shown["connected"] and shown["agent_address"] == agent.address.lower()
    assert agent_key.removeprefix("0x") not in await page.content()
    assert await connect.get_by_label("API wallet private key").input_value() == ""

    # Go live: the code just spent is refused, the next step's is taken.
    switch = page.locator("#live-switch-form")
    await switch.get_by_label("Two-factor code").fill(used)
    await switch.get_by_role("button", name="Switch to live").click()
    await page.locator("#toast").filter(has_text=REFUSED_CODE).wait_for()
    trader = await api_get(demo, token, f"/api/account/{account['id']}")
    assert trader["execution_mode"] == "paper"
    clock.advance()
    await switch.get_by_label("Two-factor code").fill(code(secret, clock))
    await switch.get_by_role("button", name="Switch to live").click()
    await page.wait_for_selector('#execution-mode[data-mode="live"]')
    trader = await api_get(demo, token, f"/api/account/{account['id']}")
    assert trader["execution_mode"] == "live"

    # An order by another client fills at the venue; the page shows the venue's position.
    client = Trader(demo.server.api, token, account, {"username": "demo"})
    sent = await client.create(side="buy", quantity="0.002")
    assert sent.status_code == 201, sent.text
    executed = await client.execute(sent.json()["id"])
    assert executed.json()["execution_status"] == "filled", executed.text
    assert venue.position(MASTER, "BTC") == Decimal("0.002")
    row = page.locator("#venue-positions tbody tr").filter(has_text="BTC")
    await row.wait_for()
    assert "long" in await row.inner_text()
    await screenshot(page, "live-trading-1280")

    # The kill switch asks first; backing out does nothing, confirming flattens.
    await page.get_by_label("Also close every position (flatten)").check()
    await page.locator("#trader-kill-arm").click()
    step = page.locator("#trader-kill-confirm-step")
    assert "closes every position" in await step.inner_text()
    await page.get_by_role("button", name="Keep trading").click()
    assert await step.is_hidden()
    assert venue.position(MASTER, "BTC") == Decimal("0.002")
    await page.locator("#trader-kill-arm").click()
    await page.get_by_role("button", name="Confirm: stop now").click()
    report = page.locator(".kill-report tbody tr")
    await report.wait_for()
    assert await report.locator('td[data-label="Positions closed"]').inner_text() == "1"
    assert await report.locator('td[data-label="Stopped"]').inner_text() == "yes"
    assert venue.position(MASTER, "BTC") == 0
    await page.locator("#venue-state").filter(has_text="No open positions.").wait_for()

    # A position the fills do not explain appears at the venue: reconciliation reports it,
    # and the page shows the difference as it is pushed, without a reload.
    venue.accounts[MASTER].positions["BTC"] = FakePosition(Decimal("0.001"), Decimal(100000))
    await reconcile(demo.server.app.state.services.trading.live, account["id"])
    event = page.locator("#reconciliation-events tbody tr").filter(has_text="position_mismatch")
    await event.wait_for()
    assert "the venue holds 0.001" in await event.inner_text()
    await screenshot(page, "live-killed-1280")


async def test_a_binance_key_is_written_only_and_live_goes_to_binance(
    demo: Demo, browser: Browser, binance: FakeBinanceFutures
) -> None:
    clock = two_factor_clock(demo)
    token = await demo.token()
    headers = demo.server.api.bearer(token)
    setup = await demo.server.http.post(
        "/api/users/mfa/totp/setup", json={"password": demo.password}, headers=headers
    )
    secret = setup.json()["secret"]
    enabled = await demo.server.http.post(
        "/api/users/mfa/totp/enable", json={"code": code(secret, clock)}, headers=headers
    )
    recovery = enabled.json()["recovery_codes"]
    clock.advance()
    account = await create_trader(demo.server.api, token, name="Binance trader")
    assert account["exchange"] == "hyperliquid"  # the default: going live must change it
    api_key, api_secret = secrets.token_hex(32), secrets.token_hex(32)
    binance.add_key(api_key, api_secret)

    page, watch = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, f"#/trader/{account['id']}/live", "live trading")
    connect = page.locator("#exchange-credentials-form")
    await connect.get_by_label("Exchange").select_option("binance")
    environments = connect.get_by_label("Environment").locator("option")
    assert await environments.evaluate_all("options => options.map((o) => o.value)") == [
        "demo",
        "testnet",
        "mainnet",
    ]
    assert await connect.get_by_label("Account address").count() == 0
    await connect.get_by_label("Environment").select_option("testnet")
    await connect.get_by_label("API key").fill(api_key)
    await connect.get_by_label("API secret").fill(api_secret)
    await connect.get_by_label("Two-factor code").fill(code(secret, clock))
    await connect.get_by_role("button", name="Check and save").click()
    await page.locator("#exchange-state").filter(has_text=f"…{api_key[-4:]}").wait_for()
    content = await page.content()
    assert api_key not in content and api_secret not in content
    assert await connect.get_by_label("Exchange").input_value() == "binance"
    assert await connect.get_by_label("API secret").input_value() == ""
    clock.advance()

    switch = page.locator("#live-switch-form")
    await switch.get_by_label("Two-factor code").fill(code(secret, clock))
    await switch.get_by_role("button", name="Switch to live").click()
    await page.wait_for_selector('#execution-mode[data-mode="live"]')
    assert "Live on binance" in await page.locator("#execution-mode").inner_text()
    trader = await api_get(demo, token, f"/api/account/{account['id']}")
    assert (trader["execution_mode"], trader["exchange"]) == ("live", "binance")
    clock.advance()
    await (
        page.locator("#venue-state").filter(has_text="Venue reading (binance, testnet)").wait_for()
    )
    await screenshot(page, "live-binance-1280")

    # A live trader's connection cannot be removed (the API's refusal is shown); on paper
    # it can, and the page then shows what the API answers: not connected.
    watch.allowed_statuses.add(409)
    remove = page.locator("#exchange-remove-form")
    await page.locator("summary", has_text="Remove the connection").click()
    await remove.get_by_label("Two-factor code").fill(code(secret, clock))
    await remove.get_by_role("button", name="Remove connection").click()
    await page.locator("#toast").filter(has_text="The trader trades live: switch it to").wait_for()
    await page.get_by_role("button", name="Switch back to paper").click()
    await page.wait_for_selector('#execution-mode[data-mode="paper"]')
    await remove.get_by_label("Two-factor code").fill(code(secret, clock))  # not spent above
    await remove.get_by_role("button", name="Remove connection").click()
    await page.locator("#exchange-state").filter(has_text="Not connected").wait_for()
    assert not (await api_get(demo, token, f"/api/account/{account['id']}/exchange"))["connected"]

    # Two-factor off again, from the security page, with a recovery code.
    await open_page(page, "#/security", "security")
    assert await page.locator("#mfa-state").inner_text() == "Two-factor is on."
    disable = page.locator("#totp-disable-form")
    await disable.get_by_label("Password").fill(demo.password)
    await disable.get_by_label("Code or recovery code").fill(recovery[0])
    await disable.get_by_role("button", name="Turn off two-factor").click()
    await page.locator("#toast").filter(has_text="Two-factor turned off").wait_for()
    assert not (await api_get(demo, token, "/api/users/profile"))["mfa_enabled"]


async def test_the_user_kill_switch_stops_every_trader_after_confirmation(
    demo: Demo, browser: Browser
) -> None:
    token = await demo.token()
    traders = await api_get(demo, token, "/api/account/list")
    assert traders and all(t["status"] == "active" for t in traders)

    page, watch = await browser.page()
    watch.allowed_statuses.add(403)
    await sign_in(page, demo.url, "demo", demo.password)

    # Without two-factor the live page says so, and the API's refusal is what it shows.
    await open_page(page, f"#/trader/{traders[0]['id']}/live", "live trading")
    assert await page.locator("#mfa-missing").is_visible()
    connect = page.locator("#exchange-credentials-form")
    await connect.get_by_label("Account address").fill(MASTER)
    await connect.get_by_label("API wallet private key").fill("0x" + "12" * 32)
    await connect.get_by_label("Two-factor code").fill("123456")
    await connect.get_by_role("button", name="Check and save").click()
    await page.locator("#toast").filter(has_text="This needs two-factor authentication").wait_for()
    await screenshot(page, "live-without-two-factor-1280")

    await open_page(page, "#/security", "security")

    # A wrong password is the API's refusal, shown as such.
    await page.locator("#totp-setup-form").get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Set up two-factor").click()
    await page.locator("#toast").filter(has_text="Current password is incorrect").wait_for()

    kill = page.locator("#user-kill-arm")
    await kill.click()
    step = page.locator("#user-kill-confirm-step")
    assert "all your traders" in await step.inner_text()
    assert "positions stay open" in await step.inner_text()
    assert await kill.is_disabled()
    await page.get_by_role("button", name="Confirm: stop now").click()
    rows = page.locator(".kill-report tbody tr")
    await rows.first.wait_for()
    assert await rows.count() == len(traders)
    assert await step.is_hidden()
    after = await api_get(demo, token, "/api/account/list")
    assert [t["status"] for t in after] == ["paused"] * len(traders)
    await screenshot(page, "security-killed-1280")
