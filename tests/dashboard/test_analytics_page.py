"""The analytics page against /api/analytics: a demo trader's summary figures, the traders
compared and sorted, a breakdown, and the calm note while the factor engine is off."""

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


async def test_the_demo_traders_metrics_match_the_api(demo: Demo, browser: Browser) -> None:
    page, watch = await browser.page()
    # The demo server runs without the factor engine: by-factor answers 403 by design.
    watch.allowed_refusals.add((403, "/api/analytics/by-factor"))
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http
    accounts = (await http.get("/api/account/list", headers=headers)).json()
    trader = accounts[0]["id"]
    await _round_trip(demo, headers, trader, "BTC")
    await _round_trip(demo, headers, trader, "ETH")

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

    # A breakdown: the symbols' rows as /by-symbol answers them.
    by_symbol = (await http.get("/api/analytics/by-symbol?days=30", headers=headers)).json()
    assert {row["symbol"] for row in by_symbol} == {"BTC", "ETH"}
    for row in by_symbol:
        shown = page.locator(f'#by-symbol tr[data-key="{row["symbol"]}"]')
        assert await shown.locator('[data-label="PnL"]').inner_text() == signed(row["pnl"])
        assert await shown.locator('[data-label="Trades"]').inner_text() == str(row["trades"])

    # The factor engine is off here: a calm note, not an error.
    await page.locator("#factors-off").wait_for()
    assert await page.locator("#main .error").count() == 0
    # The equity chart draws the trader's curve and its present equity (two points at
    # least once one snapshot is recorded); before that it says there is no history yet.
    curve = (
        await http.get(f"/api/account/{trader}/asset-curve?timeframe=1h&limit=720", headers=headers)
    ).json()
    for chart in ("#analytics-equity-chart", "#analytics-drawdown-chart"):
        if curve:
            assert await page.locator(chart).get_attribute("role") == "img"
            assert await page.locator(f"{chart} .scatterlayer .trace").count() == 1
        else:
            await page.locator(chart).get_by_text("No equity history yet").wait_for()
    await screenshot(page, "analytics-trader-1280")

    # The filter goes: back to all traders, the summary counts both.
    await page.get_by_label("Trader").select_option(label="All traders")
    await page.get_by_role("button", name="Show").click()
    await page.get_by_role("heading", name="All your traders: last 30 days").wait_for()
    await page.wait_for_selector('#main[data-page="analytics"][data-ready="true"]')
    everyone = (await http.get("/api/analytics/summary?days=30&period=1d", headers=headers)).json()
    assert everyone["traders"] == 2
    shown = await figures.locator('[data-metric="total_pnl"] dd').inner_text()
    assert shown == signed(everyone["total_pnl"])
