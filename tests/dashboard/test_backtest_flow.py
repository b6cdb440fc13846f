"""Write a program on its page, run two backtests from the backtests page, watch them
finish, read the chart, trades and metrics, and compare the two runs."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Browser, Demo, screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_run_a_backtest_and_see_its_chart_and_trades(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)

    await page.get_by_role("link", name="Programs").click()
    await page.wait_for_selector('#main[data-page="programs"][data-ready="true"]')
    program = page.locator("#program-form")
    await program.get_by_label("Name").fill("turns")
    await program.get_by_role("button", name="Validate").click()
    await page.locator("#program-messages").filter(has_text="Valid.").wait_for()
    await program.get_by_role("button", name="Save").click()
    await page.locator("#toast").filter(has_text="Saved turns").wait_for()

    runs = []
    for _ in range(2):
        await page.get_by_role("link", name="Backtests", exact=True).click()
        await page.wait_for_selector('#main[data-page="backtests"][data-ready="true"]')
        await page.get_by_role("button", name="Start backtest").click()
        await page.wait_for_selector('#main[data-page="backtest"]')
        await page.wait_for_selector('#backtest-status[data-status="completed"]')
        runs.append(int(page.url.rsplit("/", 1)[1]))
        await page.locator("#backtest-trades").wait_for()

    headers = demo.server.api.bearer(await demo.token())
    done = (await demo.server.http.get(f"/api/backtests/{runs[-1]}", headers=headers)).json()
    assert done["status"] == "completed" and done["trades"]
    assert await page.locator("#backtest-progress").get_attribute("value") == "100"
    assert await page.locator("#backtest-trades tbody tr").count() == len(done["trades"])
    assert await page.locator("#backtest-equity-chart .main-svg").count() > 0
    trades_cell = page.locator('tr[data-metric="total_trades"] td')
    assert await trades_cell.inner_text() == str(done["total_trades"])
    await screenshot(page, "backtest-1280")

    await page.get_by_role("link", name="All backtests").click()
    await page.wait_for_selector('#main[data-page="backtests"][data-ready="true"]')
    await page.get_by_label("First run").select_option(str(runs[0]))
    await page.get_by_label("Second run").select_option(str(runs[1]))
    await page.get_by_role("button", name="Compare").click()
    await page.locator("#compare-chart .main-svg").first.wait_for()
    headings = await page.locator("#comparison thead th").all_inner_texts()
    assert headings == ["Metric", f"#{runs[0]}", f"#{runs[1]}"]
    await screenshot(page, "backtests-1280")
