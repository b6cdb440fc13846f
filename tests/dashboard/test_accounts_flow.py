"""Register, sign in, create a trader and give it a strategy, then end sessions: all
through the pages, checked against the API an external client sees."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Browser, Demo, screenshot, sign_in
from tests.helpers import STRONG_PASSWORD

pytestmark = pytest.mark.browser


async def test_register_create_a_trader_and_give_it_a_strategy(
    demo: Demo, browser: Browser
) -> None:
    page, _ = await browser.page()
    await page.goto(demo.url + "/")
    register = page.locator("#register-form")
    await register.get_by_label("Username").fill("alice")
    await register.get_by_label("Password").fill(STRONG_PASSWORD)
    await register.get_by_role("button").click()
    await page.wait_for_selector('#main[data-page="traders"][data-ready="true"]')
    assert "No traders yet" in await page.locator("#traders-holder").inner_text()

    form = page.locator("#new-trader-form")
    await form.get_by_label("Name").fill("Momentum")
    await form.get_by_role("button", name="Create trader").click()
    await page.wait_for_selector('#main[data-page="trader"][data-ready="true"]')
    assert await page.locator("#trader-name").inner_text() == "Momentum"

    strategy = page.locator("#strategy-form")
    await strategy.get_by_label("Symbols").fill("eth, sol")
    await strategy.get_by_label("Run every (seconds)").fill("120")
    await strategy.get_by_role("button", name="Save strategy").click()
    await page.locator("#toast").filter(has_text="Strategy saved").wait_for()

    token = await demo.server.api.login("alice")
    headers = demo.server.api.bearer(token)
    (trader,) = (await demo.server.http.get("/api/account/list", headers=headers)).json()
    saved = (
        await demo.server.http.get(f"/api/account/{trader['id']}/strategy", headers=headers)
    ).json()
    assert trader["name"] == "Momentum"
    assert saved["symbols"] == ["ETH", "SOL"]
    assert saved["trigger_interval"] == 120

    # Pause from the page: the API sees the trader paused.
    await page.get_by_role("button", name="Pause").click()
    await page.locator("#trader-status").filter(has_text="Paused").wait_for()
    again = (await demo.server.http.get(f"/api/account/{trader['id']}", headers=headers)).json()
    assert again["status"] == "paused"

    # The model key is write-only: the page sends it, and only a hint comes back.
    model = page.locator("#model-form")
    await model.get_by_label("API key").fill("sk-test-key-0123456789")
    await model.get_by_role("button", name="Save model").click()
    await page.locator("#model-form").get_by_text("ending in").wait_for()
    assert "sk-test-key-0123456789" not in await page.content()
    await screenshot(page, "trader-1280")


async def test_revoking_sessions_and_signing_out(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    other = await demo.token()  # another client of the same user
    headers = demo.server.api.bearer(other)

    await page.get_by_role("link", name="Sessions").click()
    await page.wait_for_selector('#main[data-page="sessions"][data-ready="true"]')
    sessions = (await demo.server.http.get("/api/users/sessions", headers=headers)).json()
    rows = page.locator("#sessions-table tbody tr")
    assert await rows.count() == len(sessions) == 2
    await screenshot(page, "sessions-1280")

    # Revoking the other session: it stops working, this page stays signed in.
    mine = next(s for s in sessions if s["current"])  # the API client's own
    await page.get_by_role("button", name=f"Revoke session {mine['id']}", exact=True).click()
    await page.locator(f'#sessions-table tr[data-session-id="{mine["id"]}"]').wait_for(
        state="detached"
    )
    assert (await demo.server.http.get("/api/users/profile", headers=headers)).status_code == 401

    # Revoking the page's own session signs the page out.
    await page.get_by_role("button", name="(this one)").click()
    await page.wait_for_selector('#main[data-page="signin"]')
    assert await page.locator("#nav").is_hidden()

    # Sign in again and sign out with the button: the session ends on the server too.
    await sign_in(page, demo.url, "demo", demo.password)
    listed = (
        await demo.server.http.get(
            "/api/users/sessions", headers=demo.server.api.bearer(await demo.token())
        )
    ).json()
    page_session = next(s for s in listed if s["client_name"] == "dashboard")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_selector('#main[data-page="signin"]')
    left = (
        await demo.server.http.get(
            "/api/users/sessions", headers=demo.server.api.bearer(await demo.token())
        )
    ).json()
    assert page_session["id"] not in [s["id"] for s in left]
