"""The factors page with the factor engine on: create a custom factor, a bad expression
refused with the parser's message next to the field, evaluate the factor into a chart,
and an effectiveness run started, followed and its result shown; each checked against
the API."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Browser, Demo, open_page, screenshot, sign_in

pytestmark = pytest.mark.browser

EXPRESSION = "roc(close, 10) * (volume / sma(volume, 20))"
BAD = "close + nosuch(close, 3)"
LONG_WAIT_MS = 120_000  # an effectiveness run measures every factor on a week of bars


def ratio(value: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


async def test_custom_factor_evaluate_and_effectiveness(
    factor_demo: Demo, browser: Browser
) -> None:
    demo = factor_demo
    page, watch = await browser.page()
    watch.allowed_refusals.add((422, "/api/factors/custom"))  # the bad expression, on purpose
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http
    await open_page(page, "#/factors", "factors")
    assert await page.locator("details.category").count() == 6
    builtins = [
        f
        for f in (await http.get("/api/factors/", headers=headers)).json()
        if f["source"] == "builtin"
    ]
    # Each category folds open to list its factors with their descriptions.
    category = page.locator(f'details[data-category="{builtins[0]["category"]}"]')
    await category.locator("summary").click()
    first = category.locator(f'tr[data-factor="{builtins[0]["name"]}"]')
    assert builtins[0]["description"] in await first.inner_text()

    # A bad expression: the parser's own message, next to the field, nothing stored.
    form = page.locator("#factor-form")
    await form.get_by_label("Name").fill("broken")
    await form.get_by_label("Expression").fill(BAD)
    await form.get_by_role("button", name="Create factor").click()
    refused = await http.post(
        "/api/factors/custom", json={"name": "broken", "expression": BAD}, headers=headers
    )
    assert refused.status_code == 422
    note = form.locator(".error")
    await note.wait_for()
    assert await note.inner_text() == refused.json()["message"]
    assert "position" in refused.json()["message"]
    expression_box = form.get_by_label("Expression")
    assert await expression_box.get_attribute("aria-invalid") == "true"
    assert (await http.get("/api/factors/custom", headers=headers)).json() == []

    # Corrected, it is created and listed.
    await form.get_by_label("Name").fill("my_vol_momentum")
    await expression_box.fill(EXPRESSION)
    await form.get_by_label("Description").fill("momentum weighted by volume")
    await form.get_by_role("button", name="Create factor").click()
    row = page.locator('#custom-factors tr[data-factor="my_vol_momentum"]')
    await row.wait_for()
    (stored,) = (await http.get("/api/factors/custom", headers=headers)).json()
    assert (stored["name"], stored["expression"]) == ("my_vol_momentum", EXPRESSION)
    assert await form.locator(".error").count() == 0

    # Evaluated: the values drawn, the canonical form as the API gives it.
    await row.get_by_role("button", name="Evaluate my_vol_momentum").click()
    chart = page.locator("#evaluate-chart")
    await chart.locator(".scatterlayer .trace").wait_for()
    assert await chart.get_attribute("role") == "img"
    evaluated = (
        await http.post(
            "/api/factors/evaluate",
            json={"expression": EXPRESSION, "symbol": "BTC", "bars": 100},
            headers=headers,
        )
    ).json()
    about = await page.locator("#evaluate-result").inner_text()
    assert about.startswith(f"{evaluated['canonical']} on BTC, {evaluated['interval']} bars")
    assert sum(v is not None for v in evaluated["series"][0]["values"]) >= 2

    # Effectiveness: started from the page, followed until done, every factor listed.
    assert (await http.get("/api/factors/effectiveness", headers=headers)).json() == []
    await page.get_by_text("Not measured yet").wait_for()
    await page.get_by_role("button", name="Measure now").click()
    await page.wait_for_selector(
        '#effectiveness-status[data-status="completed"]', timeout=LONG_WAIT_MS
    )
    table = page.locator("#effectiveness-table")
    await table.locator('tr[data-key="my_vol_momentum"]').wait_for()
    rows = (await http.get("/api/factors/effectiveness?limit=1000", headers=headers)).json()
    assert len(rows) == len(builtins) + 1
    assert await table.locator("tbody tr").count() == len(rows)
    for measured in rows[:3] + rows[-1:]:
        shown = table.locator(f'tr[data-key="{measured["factor_name"]}"]')
        assert await shown.locator('[data-column="rank_ic"]').inner_text() == ratio(
            measured["rank_ic"]
        )
        assert await shown.locator('[data-column="ic"]').inner_text() == ratio(measured["ic"])

    # One factor's detail: its decay drawn as bars.
    await page.get_by_label("Factor", exact=True).select_option("my_vol_momentum")
    await page.get_by_role("button", name="Show factor").click()
    await page.locator("#effectiveness-decay-chart .barlayer .trace").wait_for()
    await screenshot(page, "factors-engine-on-1280")

    # Edited, then deleted, from its row.
    row = page.locator('#custom-factors tr[data-factor="my_vol_momentum"]')
    await row.get_by_role("button", name="Edit my_vol_momentum").click()
    await form.get_by_label("Description").fill("volume-weighted momentum")
    await form.get_by_role("button", name="Save my_vol_momentum").click()
    await row.get_by_text("volume-weighted momentum").wait_for()
    (stored,) = (await http.get("/api/factors/custom", headers=headers)).json()
    assert stored["description"] == "volume-weighted momentum"
    await row.get_by_role("button", name="Delete my_vol_momentum").click()
    await page.get_by_text("No factors of your own yet.").wait_for()
    assert (await http.get("/api/factors/custom", headers=headers)).json() == []

    # With the engine on, the analytics page ranks factors instead of the note.
    await open_page(page, "#/analytics", "analytics")
    assert await page.locator("#factors-off").count() == 0
    await page.get_by_text("No closed trades to rank factors against yet.").wait_for()
