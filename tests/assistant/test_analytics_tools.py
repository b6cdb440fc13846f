"""The assistant's analytics and factor tools, asked through the builtin model: the
numbers are the API routes' own (the same services), and another user's trader or custom
factor is out of reach."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.factors.models import BUILTIN_SCOPE, FactorEffectiveness
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.analytics.conftest import app, clock, market
from tests.analytics.test_by_factor import ROUND_TRIPS, _round_trip
from tests.assistant.helpers import parse_sse, tokens_of, tool_calls_of
from tests.helpers import Api
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

__all__ = ["app", "clock", "market"]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(factor_engine="enabled", factor_refresh_minutes=0)


async def _ask(trader: Trader, message: str) -> tuple[dict[str, Any], Any, str]:
    """The one tool call the builtin model made, the data it returned (as stored with the
    conversation) and the worded answer."""
    response = await trader.api.client.post(
        "/api/hyper-ai/chat", json={"context": {}, "message": message}, headers=trader.headers
    )
    assert response.status_code == 200, response.text
    frames = parse_sse(response.text)
    [call] = tool_calls_of(frames)
    conversation_id = frames[0][1]["conversation_id"]
    stored = await trader.get(f"/api/hyper-ai/conversations/{conversation_id}")
    [tool] = [m for m in stored["messages"] if m["role"] == "tool"]
    return call, json.loads(tool["content"]), tokens_of(frames)


async def test_trader_metrics_summary_and_attribution_are_the_routes_numbers(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket
) -> None:
    trader = await new_trader(api, name="Mine", initial_capital=10000)
    for trip in ROUND_TRIPS[:5]:
        await _round_trip(app, clock, market, trader, trip)
    clock.at(20 * 60)
    await tick(app)

    call, data, answer = await _ask(trader, f"Show the metrics of trader {trader.id} last week")
    assert (call["name"], call["status"]) == ("trader_metrics", "ok")
    assert json.loads(call["arguments"]) == {"trader_id": trader.id, "days": 7}
    [row] = await trader.get("/api/analytics/by-account", days=7)
    assert data == {"trader_id": trader.id, "days": 7, **row}
    assert row["trades"] == 5 and row["pnl"] != 0
    assert f"5 closed trades ({row['wins']} won, {row['losses']} lost)" in answer
    assert f"PnL {row['pnl']}," in answer and f"win rate {row['win_rate']}," in answer

    call, data, answer = await _ask(trader, "Analytics summary over the last week")
    assert call["name"] == "analytics_summary"
    summary = await trader.get("/api/analytics/summary", days=7)
    del summary["returns"]["values"]
    assert data == summary
    assert f"PnL {summary['total_pnl']}," in answer
    assert (
        f"Sharpe ratio {summary['sharpe_ratio'] if summary['sharpe_ratio'] is not None else 'n/a'}"
        in answer
    )

    call, data, answer = await _ask(trader, f"AI attribution of trader {trader.id}")
    assert call["name"] == "ai_attribution"
    assert data == await trader.get("/api/analytics/ai-attribution", trader_id=trader.id, days=30)
    assert f"Trader #{trader.id} over the last 30 days: 0 decisions" in answer

    # Another user asking about the trader: refused like the routes, no number leaks.
    stranger = await new_trader(api, name="Stranger")
    for question in (
        f"Show the metrics of trader {trader.id}",
        f"attribution of trader {trader.id}",
    ):
        call, data, answer = await _ask(stranger, question)
        assert call["status"] == "error" and call["error"]["code"] == "FORBIDDEN", call
        assert answer.startswith("That did not work") and str(row["pnl"]) not in answer
    call, data, _ = await _ask(stranger, "How am I doing?")
    assert call["status"] == "ok" and data["trades"] == 0 and data["traders"] == 1


def _measured(name: str, ic: float) -> FactorEffectiveness:
    summary = {
        "ic": ic, "rank_ic": ic / 2, "icir": 0.5, "rank_icir": 0.25, "t_stat": 2.0,
        "win_rate": 0.6, "periods": 300,
    }  # fmt: skip
    part = {"summary": summary, "decay": {"half_life_bars": 12.5}, "by_window": []}
    return FactorEffectiveness(
        scope=BUILTIN_SCOPE,
        factor_name=name,
        basis={"interval": "1h", "horizon_bars": 1, "period_bars": 24, "symbols": ["BTC"]},
        result={"time_series": part, "cross_sectional": part},
        computed_at=utcnow(),
    )


async def test_factor_tools_read_the_catalogue_and_only_the_callers_own_factors(
    app: FastAPI, api: Api
) -> None:
    owner = await new_trader(api, name="Owner")
    stranger = await new_trader(api, name="Stranger")
    made = await api.client.post(
        "/api/factors/custom",
        json={"name": "my_roc", "expression": "roc(close, 5)", "description": "mine"},
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
    async with app.state.services.sessionmaker() as session:
        session.add(_measured("roc_5", 0.07))
        await session.commit()

    call, data, answer = await _ask(owner, "List my factors")
    assert call["name"] == "list_factors"
    assert sum(len(names) for names in data["builtin"].values()) == 64
    assert data["custom"] == [
        {"id": made.json()["id"], "name": "my_roc", "expression": "roc(close, 5)",
         "description": "mine"}
    ]  # fmt: skip
    assert answer.startswith("64 built-in factors (trend ") and "my_roc = roc(close, 5)" in answer
    _, theirs, answer = await _ask(stranger, "show factors")
    assert theirs["custom"] == [] and "my_roc" not in answer

    call, data, answer = await _ask(owner, "Effectiveness of factor roc_5")
    assert (call["name"], json.loads(call["arguments"])) == (
        "factor_effectiveness",
        {"factor_name": "roc_5"},
    )
    listed = await owner.get("/api/factors/effectiveness")
    assert data == next(r for r in listed if r["factor_name"] == "roc_5")
    assert "IC 0.07, rank IC 0.035, win rate 0.6, half-life 12.5 bars" in answer

    call, _, _ = await _ask(owner, "effectiveness of factor my_roc")
    assert call["error"]["code"] == "EFFECTIVENESS_NOT_READY"  # the owner's: known, not run
    call, _, _ = await _ask(stranger, "effectiveness of factor my_roc")
    assert call["error"]["code"] == "FACTOR_NOT_FOUND"  # never the owner's factor
