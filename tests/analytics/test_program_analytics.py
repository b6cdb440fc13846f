"""Program analytics and signal attribution on a program trader's real cycles: the
program runs in the sandbox, two of its cycles come from the API (``ai_decision``) and
two from a signal trigger handed to the pipeline as the signal runtime hands it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.trigger import Trigger
from tests.accounts.helpers import create_trader
from tests.helpers import Api
from tests.programs.programs import strategy
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

FLIP = strategy(
    """
if "BTC" in data.get_positions():
    return Decision("close", "BTC", reasoning="take it off")
return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="put it on")
"""
)


async def _by_api(trader: Trader) -> None:
    response = await trader.api.client.post(
        f"/api/account/{trader.id}/trigger", headers=trader.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["executed"], response.json()


async def _by_signal(app: FastAPI, trader: Trader, clock: TestClock) -> None:
    outcome = await app.state.pipeline.run_cycle(
        trader.id, Trigger(kind="signal", at=clock(), values={"rsi": 25})
    )
    assert outcome.ok, outcome


async def _hour(
    app: FastAPI, clock: TestClock, market: ScriptedMarket, hour: int, btc: int
) -> None:
    clock.at(hour * 60)
    await market.set("BTC", btc)
    await tick(app)


async def test_program_runs_and_signal_trades_are_reported(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket
) -> None:
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

    await _hour(app, clock, market, 0, 50000)
    await _by_api(trader)  # long: opened by an API-triggered cycle
    await _hour(app, clock, market, 1, 50500)
    await _by_signal(app, trader, clock)  # close: a win
    await _hour(app, clock, market, 2, 50500)
    await _by_signal(app, trader, clock)  # long: opened by a signal
    await _hour(app, clock, market, 3, 50000)
    await _by_api(trader)  # close: a loss

    async with app.state.services.sessionmaker() as session:
        records = (
            await session.scalars(
                select(DecisionRecord).where(DecisionRecord.account_id == trader.id)
            )
        ).all()
    times = [float(r.latency_ms) for r in records if r.latency_ms is not None]
    assert len(records) == 4 and len(times) == 4
    # What each run was given is recorded with it: no template, the input's regimes; and
    # who answered.
    assert all(
        r.context == {"variables": [], "regimes": {"BTC": None}, "provider": "program"}
        for r in records
    )

    (row,) = await trader.get("/api/analytics/programs", days=3)
    assert row["program_id"] == program_id and row["runs"] == 4 and row["failed_runs"] == 0
    assert row["decision_distribution"] == {"close": 2, "long": 2}
    assert row["execution_time_ms"]["avg"] == pytest.approx(float(np.mean(times)), rel=1e-12)
    assert row["execution_time_ms"]["p99"] == pytest.approx(
        float(np.percentile(times, 99)), rel=1e-12
    )
    assert row["execution_time_ms"]["samples"] == 4
    assert row["trades"] == 2 and row["wins"] == 1 and row["losses"] == 1
    assert await trader.get("/api/analytics/programs", days=3, program_id=program_id + 1) == []
    # Filtered to a trader: the program's runs by that trader only (an idle second trader
    # of the same user has none).
    idle = await create_trader(api, trader.token, name="Idle", account_type="program")
    assert await trader.get("/api/analytics/programs", days=3, account_id=trader.id) == [row]
    assert await trader.get("/api/analytics/programs", days=3, account_id=idle["id"]) == []
    assert await trader.get("/api/analytics/by-trigger-type", account_id=idle["id"]) == []

    trades: list[dict[str, Any]] = await trader.get("/api/analytics/trades", days=1)
    assert [t["trigger_type"] for t in reversed(trades)] == ["ai_decision", "signal"]
    assert {t["program_id"] for t in trades} == {program_id}
    by_trigger = {r["trigger_type"]: r for r in await trader.get("/api/analytics/by-trigger-type")}
    assert {k: v["trades"] for k, v in by_trigger.items()} == {"ai_decision": 1, "signal": 1}
    assert by_trigger["ai_decision"]["pnl"] > 0 > by_trigger["signal"]["pnl"]
    (by_strategy,) = await trader.get("/api/analytics/by-strategy")
    assert by_strategy["strategy"] == "program" and by_strategy["program_id"] == program_id

    replay = await trader.get(f"/api/analytics/replay/{trades[0]['opening_order_id']}")
    assert replay["decision"]["strategy_type"] == "program"
    assert replay["program_input"] is not None and '"prices"' in replay["program_input"]
