"""Prompts (copy a built-in, edit, preview for a trader), signals, pools and bindings,
and a refused sign-in: through the pages, checked against the API."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Browser, Demo, open_page, sign_in

pytestmark = pytest.mark.browser


async def test_copy_edit_and_preview_a_prompt(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http
    builtin = next(
        p for p in (await http.get("/api/prompts/", headers=headers)).json() if p["is_system"]
    )
    await open_page(page, "#/prompts", "prompts")

    form = page.locator("#prompt-form")
    await form.get_by_label("Template").select_option(str(builtin["id"]))
    assert await form.get_by_label("Content").input_value() == builtin["content"]
    assert await form.get_by_role("button", name="Save").is_disabled()  # built-ins are read-only
    await form.get_by_role("button", name="Copy").click()
    await page.locator("#toast").filter(has_text="Copied").wait_for()
    await form.get_by_label("Content").fill("Prices now: {market_prices} and {not_a_variable}")
    await form.get_by_role("button", name="Save").click()
    await page.locator("#toast").filter(has_text="Saved").wait_for()
    mine = [
        p for p in (await http.get("/api/prompts/", headers=headers)).json() if not p["is_system"]
    ]
    assert [p["content"] for p in mine] == ["Prices now: {market_prices} and {not_a_variable}"]

    await page.get_by_role("button", name="Preview").click()
    preview = page.locator("#prompt-preview")
    await preview.filter(has_text="Prices now:").wait_for()
    assert "{market_prices}" not in await preview.inner_text()
    await page.get_by_text("Unknown placeholders: not_a_variable").wait_for()


async def test_signals_pools_and_bindings(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http
    await open_page(page, "#/signals", "signals")

    signal = page.locator("#signal-form")
    await signal.get_by_label("Name").fill("oversold")
    await signal.get_by_role("button", name="Add signal").click()
    await page.locator("#signals-table").get_by_text("oversold").wait_for()
    pool = page.locator("#pool-form")
    await pool.get_by_label("Name").fill("dips")
    await pool.get_by_label("Signals").select_option(label="oversold")
    await pool.get_by_role("button", name="Add pool").click()
    await page.locator("#pools-table").get_by_text("dips").wait_for()

    binding = page.locator("#binding-form")
    await binding.get_by_label("Signal pools").select_option(label="dips")
    await binding.get_by_role("button", name="Add binding").click()
    await page.locator("#bindings-table tbody tr").first.wait_for()

    overview = (await http.get("/api/signals/", headers=headers)).json()
    assert [d["name"] for d in overview["definitions"]] == ["oversold"]
    assert overview["definitions"][0]["config"]["indicator"] == "rsi"
    assert [(p["name"], p["signals_count"]) for p in overview["pools"]] == [("dips", 1)]
    (bound,) = (await http.get("/api/bindings", headers=headers)).json()
    assert bound["signal_pool_ids"] == [overview["pools"][0]["id"]]


async def test_a_wrong_password_is_refused_on_the_page(demo: Demo, browser: Browser) -> None:
    page, watch = await browser.page()
    watch.allowed_statuses.add(401)  # Chromium logs the refused login as a failed load
    await page.goto(demo.url + "/")
    await page.get_by_label("Username or email").fill("demo")
    await page.locator("#signin-form").get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.locator("#signin-form-error").filter(has_text="nvalid").wait_for()
    assert await page.locator("#nav").is_hidden()
