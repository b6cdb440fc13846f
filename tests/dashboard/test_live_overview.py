"""Sign in as the demo user, see the demo traders, and see a new fill arrive over /ws."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.runtime import leases
from tests.dashboard.conftest import Browser, Demo, screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_demo_traders_and_a_new_fill_appear_without_reload(
    demo: Demo, browser: Browser
) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)

    token = await demo.token()
    headers = demo.server.api.bearer(token)
    http = demo.server.http
    accounts = (await http.get("/api/account/list", headers=headers)).json()
    assert len(accounts) == 2
    rows = page.locator("#traders-table tbody tr")
    assert await rows.count() == 2
    for account in accounts:
        overview = (
            await http.get(f"/api/account/{account['id']}/overview", headers=headers)
        ).json()
        row = page.locator(f'#traders-table tr[data-trader-id="{account["id"]}"]')
        assert account["name"] in await row.inner_text()
        shown = await row.locator('[data-field="equity"]').inner_text()
        assert Decimal(shown.replace(",", "")) == Decimal(str(overview["equity"])).quantize(
            Decimal("0.01")
        )
    await page.wait_for_selector('#live-state[data-state="live"]')

    # An external client trades; the open page shows the fill without a reload.
    trader = accounts[0]["id"]
    order = await http.post(
        "/api/orders/create",
        json={
            "account_id": trader,
            "symbol": "BTC",
            "side": "buy",
            "order_type": "market",
            "quantity": 0.01,
        },
        headers=headers,
    )
    assert order.status_code == 201, order.text
    executed = await http.post(f"/api/orders/execute/{order.json()['id']}", headers=headers)
    assert executed.json()["execution_status"] == "filled", executed.text
    fills = (await http.get(f"/api/account/{trader}/trades", headers=headers)).json()
    fill = page.locator(f'#recent-fills li[data-fill-id="{fills[0]["id"]}"]')
    await fill.wait_for()
    assert "BTC" in await fill.inner_text()
    positions = page.locator(
        f'#traders-table tr[data-trader-id="{trader}"] [data-field="positions"]'
    )
    await positions.filter(has_text="BTC").wait_for()
    # Equity snapshots are taken at minute boundaries, so whether one exists yet depends on
    # when the fill landed (a run crossing a minute had one); without one the chart says
    # so rather than drawing a point (the backtest test checks drawn curves).
    curve = (await http.get(f"/api/account/{trader}/asset-curve", headers=headers)).json()
    if not curve:
        assert "No equity history yet" in await page.locator("#equity-chart").inner_text()
    await screenshot(page, "traders-1280")


async def test_a_trader_paused_by_failures_shows_error_and_why(
    demo: Demo, browser: Browser
) -> None:
    token = await demo.token()
    headers = demo.server.api.bearer(token)
    accounts = (await demo.server.http.get("/api/account/list", headers=headers)).json()
    target = accounts[0]["id"]
    # What the scheduler does after each failed cycle, PAUSE_AFTER_FAILURES times in a row.
    services = demo.server.app.state.services
    owner = None
    for _ in range(leases.PAUSE_AFTER_FAILURES):
        async with services.sessionmaker() as session:
            owner = await leases.record_outcome(
                session, account_id=target, ok=False, error="the model refused the API key"
            )
    assert owner is not None
    await services.versions.bump(owner)
    reason = (await demo.server.http.get(f"/api/account/{target}", headers=headers)).json()[
        "status_reason"
    ]
    assert reason.endswith("last error: the model refused the API key")

    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    badge = page.locator(f'#traders-table tr[data-trader-id="{target}"] .badge')
    assert await badge.inner_text() == f"Error: {reason}"
    other = page.locator(f'#traders-table tr[data-trader-id="{accounts[1]["id"]}"] .badge')
    assert await other.inner_text() == "Active"
    await screenshot(page, "traders-error-1280")
