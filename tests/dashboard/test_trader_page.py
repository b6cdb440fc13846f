"""The trader page's controls: run a decision cycle now, place orders from the ticket,
cancel a resting one; each result checked against the API."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Browser, Demo, screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_run_now_and_the_order_ticket(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http
    trader = (await http.get("/api/account/list", headers=headers)).json()[0]["id"]
    await page.locator(f'#traders-table tr[data-trader-id="{trader}"] a').click()
    await page.wait_for_selector('#main[data-page="trader"][data-ready="true"]')
    assert "No decisions yet" in await page.locator("#decision-log").inner_text()

    # A market buy with take-profit and stop-loss: the fill is listed, and both levels
    # are drawn over the BTC candles (the chart's first symbol) with the fill's marker.
    price = (await http.get("/api/crypto/price/BTC", headers=headers)).json()["price"]
    ticket = page.locator("#order-ticket")
    await ticket.get_by_label("Symbol").fill("BTC")
    await ticket.get_by_label("Quantity (base units)").fill("0.002")
    await ticket.get_by_label("Take-profit price").fill(str(round(price * 1.05)))
    await ticket.get_by_label("Stop-loss price").fill(str(round(price * 0.95)))
    await ticket.get_by_role("button", name="Place order").click()
    await page.locator("#toast").filter(has_text="filled").wait_for()
    fills = (await http.get(f"/api/account/{trader}/trades", headers=headers)).json()
    btc = [fill for fill in fills if fill["symbol"] == "BTC"]
    await page.locator(f'#trades-table tr[data-fill-id="{btc[0]["id"]}"]').wait_for()
    chart = page.locator("#trader-candle-chart")
    assert await chart.get_attribute("aria-label") == "BTC candles with fills"
    await chart.locator(".shapelayer path").nth(1).wait_for(state="attached")  # TP and SL
    assert await chart.locator(".scatterlayer .point").count() >= 1  # the buy marker

    # A limit far below the market rests; the page lists it and cancels it.
    await ticket.get_by_label("Take-profit price").fill("")
    await ticket.get_by_label("Stop-loss price").fill("")
    await ticket.get_by_label("Symbol").fill("BTC")
    await ticket.get_by_label("Order type").select_option("limit")
    await ticket.get_by_label("Quantity (base units)").fill("0.001")
    await ticket.get_by_label("Limit price").fill(str(round(price * 0.5)))
    await ticket.get_by_role("button", name="Place order").click()
    await page.locator("#toast").filter(has_text="open").wait_for()
    orders = (await http.get(f"/api/orders/account/{trader}", headers=headers)).json()
    (resting,) = [order for order in orders if order["status"] == "open"]
    row = page.locator(f'#orders-holder tr[data-order-id="{resting["id"]}"]')
    await row.wait_for()
    await screenshot(page, "trader-controls-1280")
    await row.get_by_role("button", name=f"Cancel order {resting['id']}").click()
    await row.wait_for(state="detached")
    orders = (await http.get(f"/api/orders/account/{trader}", headers=headers)).json()
    assert next(o for o in orders if o["id"] == resting["id"])["status"] == "cancelled"

    # Last, since what the model decides depends on the market of the moment.
    await page.get_by_role("button", name="Run now").click()
    await page.locator("#decision-log article").first.wait_for()
    (decision,) = (await http.get(f"/api/account/{trader}/decisions", headers=headers)).json()
    card = page.locator(f'#decision-log article[data-decision-id="{decision["id"]}"]')
    assert await card.count() == 1
    if decision["reasoning"]:
        assert decision["reasoning"] in await card.inner_text()
