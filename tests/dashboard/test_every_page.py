"""Every page at a phone's and a laptop's width: no console or page error, no sideways
scrolling, a label on every form control, and keyboard navigation; a screenshot of each."""

from __future__ import annotations

import json

import pytest

from tests.backtests.support import create_program, request_body, submit
from tests.dashboard.conftest import PHONE, WIDE, Browser, Demo, open_page, screenshot, sign_in

pytestmark = pytest.mark.browser

# Controls whose accessible name comes from no label: the answer lists them.
UNLABELLED = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
  .map((el) => el.outerHTML)
"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The nav wraps inside the page's width: no link of it ends past the right edge.
NAV_OVERFLOW = """
() => Math.max(...[...document.querySelectorAll("#nav > *")]
  .map((el) => el.getBoundingClientRect().right)) - document.documentElement.clientWidth
"""


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390px", "1280px"])
async def test_every_page_at_phone_and_laptop_width(
    demo: Demo, browser: Browser, viewport: dict[str, int]
) -> None:
    token = await demo.token()
    program = await create_program(demo.server.api, token)
    backtest = await submit(demo.server.api, token, request_body(program))
    headers = demo.server.api.bearer(token)
    accounts = (await demo.server.http.get("/api/account/list", headers=headers)).json()
    prompt_backtest = (
        await demo.server.http.post(
            "/api/prompt-backtests",
            json={
                "trader_id": accounts[0]["id"],
                "config": {"start_date": "2026-01-01", "end_date": "2026-01-03", "interval": "4h"},
            },
            headers=headers,
        )
    ).json()
    chat = await demo.server.http.post(
        "/api/hyper-ai/chat",
        json={"message": "show positions of trader 1", "context": {}},
        headers=demo.server.api.bearer(token),
    )  # the whole stream: the answer is stored when it ends
    started = json.loads(chat.text.split("data: ", 1)[1].split("\n", 1)[0])
    conversation = started["conversation_id"]

    page, _watch = await browser.page(viewport)
    await page.goto(demo.url + "/")
    assert await page.evaluate(UNLABELLED) == []
    await screenshot(page, f"signin-{viewport['width']}")
    await sign_in(page, demo.url, "demo", demo.password)
    pages = [
        ("#/traders", "traders"),
        (f"#/trader/{accounts[0]['id']}", "trader"),
        (f"#/trader/{accounts[0]['id']}/live", "live trading"),
        ("#/backtests", "backtests"),
        (f"#/backtest/{backtest['id']}", "backtest"),
        ("#/prompt-backtests", "prompt backtests"),
        (f"#/prompt-backtest/{prompt_backtest['id']}", "prompt backtest"),
        ("#/prompts", "prompts"),
        ("#/programs", "programs"),
        ("#/signals", "signals"),
        (f"#/analytics?trader={accounts[0]['id']}", "analytics"),
        ("#/factors", "factors"),
        (f"#/assistant/{conversation}", "assistant"),
        ("#/bots", "bots"),
        ("#/sessions", "sessions"),
        ("#/security", "security"),
        ("#/settings", "settings"),
    ]
    for hash_, name in pages:
        await open_page(page, hash_, name)
        assert await page.evaluate(UNLABELLED) == [], name
        assert await page.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways"
        assert await page.locator("h1").first.is_visible(), name
        await screenshot(page, f"{name.replace(' ', '-')}-{viewport['width']}")
    assert await page.evaluate(NAV_OVERFLOW) <= 0
    # Without the factor engine both pages say so calmly: no error on them.
    for hash_, name in (("#/factors", "factors"), ("#/analytics", "analytics")):
        await open_page(page, hash_, name)
        assert await page.locator("#factors-off").is_visible(), name
        assert await page.locator("#main .error").count() == 0, name


async def test_keyboard_alone_reaches_the_pages(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await page.reload()  # the session survives a reload of the tab
    await page.wait_for_selector('#main[data-page="traders"][data-ready="true"]')

    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    names = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        names.append(await page.evaluate("document.activeElement.textContent"))
        if names[-1] == "Backtests":
            break
    assert names[-1] == "Backtests", names
    await page.keyboard.press("Enter")
    await page.wait_for_selector('#main[data-page="backtests"][data-ready="true"]')
    focused = await page.evaluate("document.activeElement.id")
    assert focused == "main"  # focus moves to the new page's content

    # A form is filled and sent from the keyboard alone.
    await page.evaluate("location.hash = '#/settings'")
    await page.wait_for_selector('#main[data-page="settings"][data-ready="true"]')
    await page.get_by_label("Email").focus()
    await page.keyboard.type("demo@example.com")
    await page.keyboard.press("Enter")
    await page.locator("#toast").filter(has_text="Profile saved").wait_for()
    profile = (
        await demo.server.http.get(
            "/api/users/profile", headers=demo.server.api.bearer(await demo.token())
        )
    ).json()
    assert profile["email"] == "demo@example.com"


async def test_api_docs_render_offline_under_the_policy(demo: Demo, browser: Browser) -> None:
    # The schema first: its one-off build (seconds on a loaded machine, off the event
    # loop) is not what this test is about, the page rendering it under the policy is.
    assert (await demo.server.http.get("/openapi.json")).status_code == 200
    page, _ = await browser.page()
    await page.goto(demo.url + "/docs")
    await page.locator(".swagger-ui .info .title").filter(has_text="Hyperoru").wait_for()
    await page.locator(".opblock-summary-path").first.wait_for()
    await screenshot(page, "docs-1280")
