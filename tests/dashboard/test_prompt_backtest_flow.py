"""A prompt backtest started from its page on a demo trader (the builtin model, offline):
the progress bar follows the task to the end, then the metrics, the equity chart, the
round trips and the model's decisions are shown as the API gives them, and the run is
listed in the history."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Browser, Demo, screenshot, sign_in

pytestmark = pytest.mark.browser

# Every value the progress bar takes, in order, recorded by the page itself.
RECORD_PROGRESS = """
() => {
  window.progressSeen = [];
  new MutationObserver(() => {
    const bar = document.getElementById("prompt-backtest-progress");
    if (bar && window.progressSeen.at(-1) !== bar.value) window.progressSeen.push(bar.value);
  }).observe(document.getElementById("main"), { subtree: true, childList: true, attributes: true });
}
"""


async def test_a_prompt_backtest_shows_progress_then_chart_trades_and_decisions(
    demo: Demo, browser: Browser
) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    traders = (await demo.server.http.get("/api/account/list", headers=headers)).json()

    await page.get_by_role("link", name="Prompt backtests").click()
    await page.wait_for_selector('#main[data-page="prompt backtests"][data-ready="true"]')
    form = page.locator("#prompt-backtest-form")
    await form.get_by_label("Trader").select_option(str(traders[0]["id"]))
    await form.get_by_label("Candle interval").select_option("1h")
    await page.evaluate(RECORD_PROGRESS)
    await form.get_by_role("button", name="Start prompt backtest").click()
    await page.wait_for_selector('#main[data-page="prompt backtest"]')
    await page.wait_for_selector('#prompt-backtest-status[data-status="completed"]')
    run_id = int(page.url.rsplit("/", 1)[1])
    await page.locator("#prompt-backtest-decisions").wait_for()

    answer = await demo.server.http.get(
        f"/api/prompt-backtests/{run_id}?include=trades,equity,decisions", headers=headers
    )
    done = answer.json()
    assert done["status"] == "completed" and done["trader_id"] == traders[0]["id"]
    assert done["trades"], "the demo rules trade in three days of hourly bars"
    seen = await page.evaluate("window.progressSeen")
    assert seen[-1] == 100 and seen == sorted(seen), seen  # forward only, to the end
    status = await page.locator("#prompt-backtest-status").inner_text()
    samples = done["sample_count"]
    assert f"{samples}/{samples} snapshots" in status, status
    assert await page.locator("#prompt-backtest-cancel").is_hidden()

    assert await page.locator("#prompt-backtest-trades tbody tr").count() == len(done["trades"])
    assert await page.locator("#prompt-backtest-equity-chart .main-svg").count() > 0
    trades_cell = page.locator('tr[data-metric="total_trades"] td')
    assert await trades_cell.inner_text() == str(done["total_trades"])
    cards = page.locator("#prompt-backtest-decisions article")
    assert await cards.count() == len(done["decisions"])
    first = done["decisions"][0]
    assert await cards.first.get_attribute("data-bar-index") == str(first["bar_index"])
    await screenshot(page, "prompt-backtest-run-1280")

    await page.get_by_role("link", name="All prompt backtests").click()
    await page.wait_for_selector('#main[data-page="prompt backtests"][data-ready="true"]')
    row = page.locator("#prompt-backtests-table tbody tr").filter(has_text=f"#{run_id}")
    assert "completed" in await row.inner_text()
    assert traders[0]["name"] in await row.inner_text()
    await screenshot(page, "prompt-backtests-history-1280")
