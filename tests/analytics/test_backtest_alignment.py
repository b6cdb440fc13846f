"""Live vs backtest alignment: a program trader's live runs on the simulated market next
to a real backtest of the same program (run in the sandbox by the job runner)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from hyperoru.analytics.decisions import PROGRAM_BACKTEST_KIND
from hyperoru.app import create_app
from hyperoru.backtests.handler import BACKTEST_KIND
from hyperoru.settings import Settings
from tests.analytics.test_program_analytics import FLIP
from tests.backtests.support import request_body, settled, submit
from tests.conftest import running
from tests.helpers import Api
from tests.trading.helpers import new_trader


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The default app on the simulated market (this folder's scripted one has no bars)."""
    application = create_app(settings)
    async with running(application):
        yield application


def test_the_backtest_job_kind_is_the_backtests_own() -> None:
    assert PROGRAM_BACKTEST_KIND == BACKTEST_KIND


async def test_program_analytics_align_live_runs_with_the_latest_backtest(api: Api) -> None:
    trader = await new_trader(api, account_type="program", max_leverage=3)
    created = await api.client.post(
        "/api/programs/", json={"name": "flip", "code": FLIP}, headers=trader.headers
    )
    assert created.status_code == 201, created.text
    program_id = created.json()["id"]
    response = await api.client.put(
        f"/api/account/{trader.id}/strategy",
        json={"symbols": ["BTC"], "program_id": program_id},
        headers=trader.headers,
    )
    assert response.status_code == 200, response.text
    for _ in range(4):  # long, close, long, close
        response = await api.client.post(
            f"/api/account/{trader.id}/trigger", headers=trader.headers
        )
        assert response.status_code == 200 and response.json()["executed"], response.text
    (row,) = await trader.get("/api/analytics/programs", days=1)
    assert row["backtest_alignment"] is None

    job = await submit(api, trader.token, request_body(program_id))
    backtest = await settled(api, trader.token, job["id"])
    assert backtest["status"] == "completed", backtest
    assert backtest["total_trades"] > 0

    (row,) = await trader.get("/api/analytics/programs", days=1)
    alignment = row["backtest_alignment"]
    assert alignment["backtest_id"] == backtest["id"]
    assert alignment["backtest"] == {
        "trades": backtest["total_trades"],
        "win_rate": backtest["win_rate"],
        "profit_factor": backtest["profit_factor"],
        "avg_trade_pnl": pytest.approx(backtest["total_pnl"] / backtest["total_trades"]),
    }
    assert row["trades"] == 2
    assert alignment["live"] == {
        "trades": 2,
        "win_rate": row["win_rate"],
        "profit_factor": row["profit_factor"],
        "avg_trade_pnl": row["avg_trade_pnl"],
    }
    assert alignment["win_rate_difference"] == pytest.approx(row["win_rate"] - backtest["win_rate"])
    assert alignment["avg_trade_pnl_difference"] == pytest.approx(
        row["avg_trade_pnl"] - backtest["total_pnl"] / backtest["total_trades"]
    )
