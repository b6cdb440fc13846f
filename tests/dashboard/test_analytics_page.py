"""The analytics page against /api/analytics: a demo trader's summary figures, the traders
compared and sorted, the breakdowns and AI attribution filtered to that trader and then
to all of them, and the calm note while the factor engine is off (asked from
/api/factors/status: no refused request, no console error)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.conftest import Browser, Demo, open_page, screenshot, sign_in

pytestmark = pytest.mark.browser

DASH = "–"


# The page's number formats (dom.js and analytics-tables.js), for comparing text.
def signed(value: Any) -> str:
    return DASH if value is None else ("+" if value > 0 else "") + f"{value:,.2f}"


def money(value: Any) -> str:
    return DASH if value is None else f"{value:,.2f}"


def ratio(value: Any, digits: int = 3) -> str:
    if value is None:
        return DASH
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pct(value: Any) -> str:
    return DASH if value is None else f"{value:.2f}%"


def share(value: Any) -> str:
    return DASH if value is None else pct(value * 100)


def hours(value: Any) -> str:
    return DASH if value is None else f"{ratio(value, 1)} h"


FIGURES = {
    "total_pnl": signed,
    "total_trades": str,
    "win_rate": share,
    "profit_factor": ratio,
    "sharpe_ratio": ratio,
    "sortino_ratio": ratio,
    "max_drawdown_pct": pct,
    "annualized_return": share,
    "annual_volatility": share,
    "calmar_ratio": ratio,
    "best_trade_pnl": signed,
    "worst_trade_pnl": signed,
    "avg_return_pct": pct,
    "avg_trade_duration_hours": hours,
    "fees_paid": money,
}


async def _round_trip(demo: Demo, headers: dict[str, str], trader: int, symbol: str) -> None:
    """A market buy and the sell that closes it: one closed trade."""
    http = demo.server.http
    for side, reduce_only in (("buy", False), ("sell", True)):
        body = {
            "account_id": trader,
            "symbol": symbol,
            "side": side,
            "order_type": "market",
            "quantity": 0.01,
            "reduce_only": reduce_only,
        }
        order = await http.post("/api/orders/create", json=body, headers=headers)
        assert order.status_code == 201, order.text
        done = await http.post(f"/api/orders/execute/{order.json()['id']}", headers=headers)
        assert done.json()["execution_status"] == "filled", done.text


# The breakdown tables and the route each shows, with the field that keys its rows.
BREAKDOWNS = {
    "by-symbol": ("by-symbol", "symbol"),
    "by-strategy": ("by-strategy", "strategy"),
    "by-operation": ("by-operation", "operation"),
    "by-trigger": ("by-trigger-type", "trigger_type"),
}


async def _shown_rows(page: Any, table: str) -> dict[str, tuple[str, str]]:
    """A breakdown table as {row key: (trades, PnL)}, as the page shows it."""
    rows = page.locator(f"#{table} tbody tr")
    shown = {}
    for k in range(await rows.count()):
        row = rows.nth(k)
        key = await row.get_attribute("data-key")
        trades = await row.locator('[data-label="Trades"]').inner_text()
        shown[key] = (trades, await row.locator('[data-label="PnL"]').inner_text())
    return shown


async def _expected_rows(http: Any, headers: dict[str, str], query: str) -> dict[str, Any]:
    """Every breakdown table as the API answers it for ``query``."""
    expected = {}
    for table, (route, key) in BREAKDOWNS.items():
        answer = await http.get(f"/api/analytics/{route}?{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        expected[table] = {r[key]: (str(r["trades"]), signed(r["pnl"])) for r in answer.json()}
    return expected


async def test_the_demo_traders_metrics_match_the_api(demo: Demo, browser: Browser) -> None:
    # The demo server runs without the factor engine: the page asks /api/factors/status
    # first and never calls by-factor, so no request is refused (the watch fails on any).
    page, watch = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http
    accounts = (await http.get("/api/account/list", headers=headers)).json()
    trader, other = accounts[0]["id"], accounts[1]["id"]
    await _round_trip(demo, headers, trader, "BTC")
    await _round_trip(demo, headers, trader, "ETH")
    # The other trader's BTC trade: in the unfiltered breakdowns only.
    await _round_trip(demo, headers, other, "BTC")

    curve_path = f"/api/account/{trader}/asset-curve?timeframe=1h&limit=720"
    # Read before the page reads it: the demo records equity every minute, so a curve
    # empty for the page was empty here too (curves only grow).
    curve_before = (await http.get(curve_path, headers=headers)).json()
    await open_page(page, f"#/analytics?trader={trader}&days=30&period=1d", "analytics")
    assert await page.locator('nav a[aria-current="page"]').inner_text() == "Analytics"
    query = f"days=30&period=1d&account_id={trader}"
    summary = (await http.get(f"/api/analytics/summary?{query}", headers=headers)).json()
    assert summary["total_trades"] == 2 and summary["traders"] == 1
    figures = page.locator("#analytics-figures")
    for key, text in FIGURES.items():
        shown = await figures.locator(f'[data-metric="{key}"] dd').inner_text()
        assert shown == text(summary[key]), (key, shown, summary[key])
    assert f"{summary['returns']['periods_per_year']} periods a year" in await page.inner_text(
        "#main"
    )

    # Every trader compared, from its own summary; sorting by PnL orders the rows by it.
    compared = page.locator("#traders-compared")
    pnl = {}
    for account in accounts:
        own = (
            await http.get(
                f"/api/analytics/summary?days=30&period=1d&account_id={account['id']}",
                headers=headers,
            )
        ).json()
        pnl[str(account["id"])] = own["total_pnl"]
        row = compared.locator(f'tr[data-key="{account["id"]}"]')
        assert await row.locator('[data-column="sharpe_ratio"]').inner_text() == ratio(
            own["sharpe_ratio"]
        )
        assert await row.locator('[data-column="max_drawdown_pct"]').inner_text() == pct(
            own["max_drawdown_pct"]
        )
        assert await row.locator('[data-column="total_pnl"]').inner_text() == signed(
            own["total_pnl"]
        )
        assert await row.locator('[data-column="total_trades"]').inner_text() == str(
            own["total_trades"]
        )
    heading = compared.locator("thead th").filter(has_text="PnL")
    for direction in ("descending", "ascending"):
        await heading.get_by_role("button").click()
        assert await heading.get_attribute("aria-sort") == direction
        keys = await compared.locator("tbody tr").evaluate_all(
            "(rows) => rows.map((row) => row.dataset.key)"
        )
        wanted = sorted(pnl, key=lambda k: pnl[k], reverse=direction == "descending")
        assert keys == wanted

    # Filtered: said on top, and every breakdown and the AI attribution count this
    # trader's trades only.
    banner = page.locator("#analytics-filter")
    assert f"Filtered to trader {accounts[0]['name']}" in await banner.inner_text()
    filtered = await _expected_rows(http, headers, query)
    assert {k: trades for k, (trades, _) in filtered["by-symbol"].items()} == {
        "BTC": "1",
        "ETH": "1",
    }
    for table, rows in filtered.items():
        assert await _shown_rows(page, table) == rows, table
    attribution = (await http.get(f"/api/analytics/ai-attribution?{query}", headers=headers)).json()
    assert attribution["account_id"] == trader
    shown = await page.locator('#attribution-figures [data-metric="decisions"] dd').inner_text()
    assert shown == str(attribution["decisions"])
    requested = [url for url in watch.urls if "/api/" in url]
    assert any("/api/factors/status" in url for url in requested)
    assert not any("/api/analytics/by-factor" in url for url in requested)
    for route in ("by-symbol", "by-strategy", "by-operation", "by-trigger-type", "ai-attribution"):
        assert any(
            f"/api/analytics/{route}?" in u and f"account_id={trader}" in u for u in requested
        )

    # The factor engine is off here: a calm note, not an error.
    await page.locator("#factors-off").wait_for()
    assert await page.locator("#main .error").count() == 0
    # The equity chart draws the trader's curve and its present equity (two points at
    # least once one snapshot is recorded); before that it says there is no history yet.
    for chart in ("#analytics-equity-chart", "#analytics-drawdown-chart"):
        drawn = page.locator(f'{chart}[role="img"]')
        empty = page.locator(chart).get_by_text("No equity history yet")
        await drawn.or_(empty).first.wait_for()
        if await drawn.count():
            assert (await http.get(curve_path, headers=headers)).json()
            assert await page.locator(f"{chart} .scatterlayer .trace").count() == 1
        else:
            assert curve_before == []
    await screenshot(page, "analytics-trader-1280")

    # The filter goes (the banner's link): back to all traders, the summary counts both and
    # the breakdowns change to the user's every trade.
    await page.get_by_role("link", name="Show all traders").click()
    await page.get_by_role("heading", name="All your traders: last 30 days").wait_for()
    await page.wait_for_selector('#main[data-page="analytics"][data-ready="true"]')
    assert await page.locator("#analytics-filter").count() == 0
    everyone = (await http.get("/api/analytics/summary?days=30&period=1d", headers=headers)).json()
    assert everyone["traders"] == 2 and everyone["total_trades"] == 3
    shown = await figures.locator('[data-metric="total_pnl"] dd').inner_text()
    assert shown == signed(everyone["total_pnl"])
    unfiltered = await _expected_rows(http, headers, "days=30&period=1d")
    for table, rows in unfiltered.items():
        assert await _shown_rows(page, table) == rows, table
    assert unfiltered["by-symbol"]["BTC"][0] == "2" and filtered["by-symbol"]["BTC"][0] == "1"
    assert unfiltered != filtered
    await page.locator("#factors-off").wait_for()
    assert not any("/api/analytics/by-factor" in url for url in watch.urls)
