"""/api/analytics end to end on trades a trader really made: an LLM trader whose model
is a real OpenAI-compatible server on loopback decides through the pipeline on a
scripted market and clock, and its owner also trades by hand. Every number is checked
against the stored fills and asset curve (and the oracles), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import empyrical
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.settings import Settings
from hyperoru.trading.models import EquitySnapshot, TradingFill, TradingOrder
from tests.helpers import Api, assert_error
from tests.strategies.fake_llm import FakeLlm, Reply, completion
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

D = Decimal
DEEP = D(10) ** 9


@pytest.fixture
def settings(make_settings: Callable[..., Settings], llm: FakeLlm) -> Settings:
    return make_settings(llm_allowed_hosts=f"127.0.0.1:{llm.port}")


async def _cycle(trader: Trader, llm: FakeLlm, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    llm.queue(Reply(body=completion(json.dumps({"decisions": decisions, "confidence": 0.8}))))
    response = await trader.api.client.post(
        f"/api/account/{trader.id}/trigger", headers=trader.headers
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert all(o["execution_status"] == "filled" for o in record["outcomes"]), record
    return record


async def _hour(
    app: FastAPI, clock: TestClock, market: ScriptedMarket, hour: int, **marks: int
) -> None:
    clock.at(hour * 60)
    for symbol, mark in marks.items():
        await market.set(symbol, mark)
    await tick(app)


async def _trading_day(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket, llm: FakeLlm
) -> tuple[Trader, list[dict[str, Any]]]:
    trader = await new_trader(
        api,
        name="Main",
        initial_capital=10000,
        llm_provider="openai",
        llm_model="fake-model-1",
        llm_base_url=llm.base_url,
        llm_api_key="sk-test-analytics-0123456789abcdef",
        max_leverage=5,
    )
    response = await api.client.put(
        f"/api/account/{trader.id}/strategy",
        json={"symbols": ["BTC", "ETH"]},
        headers=trader.headers,
    )
    assert response.status_code == 200, response.text
    await _hour(app, clock, market, 0, BTC=50000, ETH=3000)
    records = [
        await _cycle(
            trader, llm, [{"operation": "long", "symbol": "BTC", "size_pct": 50, "leverage": 2}]
        )
    ]
    await _hour(app, clock, market, 1, BTC=51000)
    records.append(
        await _cycle(
            trader,
            llm,
            [
                {"operation": "close", "symbol": "BTC"},
                {"operation": "short", "symbol": "ETH", "size_pct": 20},
            ],
        )
    )
    await _hour(app, clock, market, 2, ETH=3100)
    records.append(await _cycle(trader, llm, [{"operation": "close", "symbol": "ETH"}]))
    await _hour(app, clock, market, 3, BTC=51000)
    await trader.trade(symbol="BTC", side="buy", quantity="0.1")
    await _hour(app, clock, market, 4, BTC=50500)
    await trader.trade(symbol="BTC", side="sell", quantity="0.1", reduce_only=True)
    await _hour(app, clock, market, 5)
    await _hour(app, clock, market, 6)
    return trader, records


async def _expected_trades(app: FastAPI, account_id: int) -> list[dict[str, Any]]:
    """The three round trips, from the stored fills: (symbol, side, net pnl, trigger)."""
    async with app.state.services.sessionmaker() as session:
        fills = (
            await session.scalars(
                select(TradingFill)
                .where(TradingFill.account_id == account_id)
                .order_by(TradingFill.id)
            )
        ).all()
        orders = {
            o.id: o
            for o in await session.scalars(
                select(TradingOrder).where(TradingOrder.account_id == account_id)
            )
        }
    assert len(fills) == 6
    trades = []
    for opening, closing in zip(fills[::2], fills[1::2], strict=True):
        assert opening.symbol == closing.symbol and closing.realized_pnl != 0
        pnl = closing.realized_pnl - opening.fee - closing.fee
        cause = orders[opening.order_id]
        trades.append(
            {
                "symbol": opening.symbol,
                "operation": opening.side,
                "pnl": pnl,
                "return_pct": pnl / (opening.price * opening.quantity) * 100,
                "trigger_type": cause.trigger_type,
                "decision_id": cause.decision_id,
            }
        )
    return trades


async def test_every_analytics_route_answers_from_the_traders_own_trades(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket, llm: FakeLlm
) -> None:
    trader, records = await _trading_day(app, api, clock, market, llm)
    expected = await _expected_trades(app, trader.id)
    # Attribution: the pipeline's orders name their cycle's record; the manual one none.
    assert [t["trigger_type"] for t in expected] == ["ai_decision", "ai_decision", "manual"]
    assert [t["decision_id"] for t in expected] == [records[0]["id"], records[1]["id"], None]
    assert [t["pnl"] > 0 for t in expected] == [True, False, False]

    trades = await trader.get("/api/analytics/trades", days=1)
    assert [(t["symbol"], t["trigger_type"]) for t in reversed(trades)] == [
        (t["symbol"], t["trigger_type"]) for t in expected
    ]
    for got, want in zip(reversed(trades), expected, strict=True):
        assert D(str(got["pnl"])) == pytest.approx(want["pnl"], abs=D("1e-9"))

    pnls = [t["pnl"] for t in expected]
    summary = await trader.get("/api/analytics/summary", days=1, period="1h")
    assert summary["total_trades"] == 3 and summary["win_rate"] == pytest.approx(1 / 3)
    assert summary["total_pnl"] == pytest.approx(float(sum(pnls)), abs=1e-9)
    assert summary["best_trade_pnl"] == pytest.approx(float(max(pnls)), abs=1e-9)
    assert summary["worst_trade_pnl"] == pytest.approx(float(min(pnls)), abs=1e-9)
    wins = sum(p for p in pnls if p > 0)
    losses = -sum(p for p in pnls if p < 0)
    assert summary["profit_factor"] == pytest.approx(float(wins / losses), rel=1e-12)
    assert summary["avg_return_pct"] == pytest.approx(
        float(sum(t["return_pct"] for t in expected) / 3), rel=1e-9
    )
    assert summary["avg_trade_duration_hours"] == pytest.approx(1.0)
    assert summary["returns"]["periods_per_year"] == 8760 and summary["returns"]["period"] == "1h"
    # The user's only trader: its own summary is the user's.
    alone = await trader.get("/api/analytics/summary", days=1, period="1h", account_id=trader.id)
    assert alone == summary

    # The return statistics, recomputed from the stored asset curve at each whole hour.
    async with app.state.services.sessionmaker() as session:
        curve = (
            await session.execute(
                select(EquitySnapshot.taken_at, EquitySnapshot.equity)
                .where(EquitySnapshot.account_id == trader.id)
                .order_by(EquitySnapshot.taken_at)
            )
        ).all()
    hours = [clock.start + timedelta(hours=h) for h in range(7)]
    valued = [[e for at, e in curve if at <= hour] for hour in hours]
    equity = [float(v[-1]) for v in valued if v]
    returns = np.array(equity[1:]) / np.array(equity[:-1]) - 1
    assert summary["returns"]["count"] == len(returns) >= 4
    assert summary["returns"]["values"] == pytest.approx(returns.tolist(), abs=1e-12)
    assert summary["sharpe_ratio"] == pytest.approx(
        empyrical.sharpe_ratio(returns, annualization=8760), rel=1e-9
    )
    assert summary["sortino_ratio"] == pytest.approx(
        empyrical.sortino_ratio(returns, annualization=8760), rel=1e-9
    )
    assert summary["max_drawdown_pct"] == pytest.approx(
        -100 * empyrical.max_drawdown(returns), rel=1e-9
    )
    assert summary["max_drawdown"]["trough_at"] is not None

    # A day later the window starts after the trades: no trade, and a flat curve whose
    # first value is the snapshot taken before the first boundary (hour 5).
    clock.at((6 + 22) * 60 + 30)
    later = await trader.get("/api/analytics/summary", days=1, period="1h")
    assert later["total_trades"] == 0 and later["win_rate"] is None
    assert later["returns"]["start_equity"] == float(valued[5][-1])
    assert later["returns"]["count"] == 23 and set(later["returns"]["values"]) == {0.0}
    assert later["sharpe_ratio"] is None and later["sortino_ratio"] is None
    assert later["max_drawdown_pct"] == 0.0 and later["max_drawdown"]["peak_at"] is None
    clock.at(6 * 60)

    by_trigger = {
        r["trigger_type"]: r for r in await trader.get("/api/analytics/by-trigger-type", days=1)
    }
    assert {k: v["trades"] for k, v in by_trigger.items()} == {"ai_decision": 2, "manual": 1}
    assert by_trigger["manual"]["pnl"] == pytest.approx(float(pnls[2]), abs=1e-9)
    by_strategy = {r["strategy"]: r for r in await trader.get("/api/analytics/by-strategy", days=1)}
    assert {k: v["trades"] for k, v in by_strategy.items()} == {"prompt": 2, "manual": 1}
    assert by_strategy["prompt"]["win_rate"] == 0.5
    by_operation = {
        r["operation"]: r for r in await trader.get("/api/analytics/by-operation", days=1)
    }
    assert {k: v["trades"] for k, v in by_operation.items()} == {"buy": 2, "sell": 1}
    by_symbol = {r["symbol"]: r for r in await trader.get("/api/analytics/by-symbol", days=1)}
    assert by_symbol["ETH"]["pnl"] == pytest.approx(float(pnls[1]), abs=1e-9)
    assert by_symbol["BTC"]["trades"] == 2
    (account_row,) = await trader.get("/api/analytics/by-account", days=1)
    assert account_row["account_id"] == trader.id and account_row["account_name"] == "Main"
    assert account_row["pnl"] == pytest.approx(float(sum(pnls)), abs=1e-9)
    # The factor engine is off in this app: by-factor is refused like /api/factors.
    refused = await api.client.get("/api/analytics/by-factor", headers=trader.headers)
    assert_error(refused, 403, "FACTOR_ENGINE_DISABLED")

    attribution = await trader.get("/api/analytics/ai-attribution", trader_id=trader.id, days=3)
    assert attribution["decisions"] == 3 and attribution["judged_decisions"] == 2
    assert attribution["decision_accuracy"] == 0.5
    assert attribution["decision_distribution"] == {"close": 2, "long": 1, "short": 1}
    assert attribution["confidence"]["decisions_with_confidence"] == 2
    # Both judged decisions were rendered from the same template: every variable it
    # used was present in one winning and one losing decision.
    variables = attribution["context_utilization"]
    assert variables and {(v["winning_decisions"], v["losing_decisions"]) for v in variables} == {
        (1, 1)
    }
    assert "market_prices" in {v["variable"] for v in variables}
    assert attribution["regimes"] == [
        {
            "regime": "unknown",
            "decisions": 2,
            "winning_decisions": 1,
            "losing_decisions": 1,
            "accuracy": 0.5,
            "pnl": pytest.approx(float(pnls[0] + pnls[1]), abs=1e-9),
        }
    ]
    (model,) = attribution["models"]
    assert model["model"] == "fake-model-1" and model["trades"] == 2

    opening = await trader.get(f"/api/analytics/replay/{records[0]['outcomes'][0]['order_ids'][0]}")
    assert opening["decision"]["id"] == records[0]["id"]
    assert opening["decision"]["rendered_prompt"] == records[0]["rendered_prompt"]
    assert opening["decision"]["raw_output"] == records[0]["raw_output"]
    assert opening["order"]["trigger_type"] == "ai_decision" and len(opening["fills"]) == 1


async def test_analytics_cover_only_the_callers_own_data(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket, llm: FakeLlm
) -> None:
    trader, records = await _trading_day(app, api, clock, market, llm)
    stranger = await new_trader(api, name="Other")
    assert await stranger.get("/api/analytics/trades", days=1) == []
    assert (await stranger.get("/api/analytics/summary", days=1))["total_trades"] == 0
    client, headers = api.client, stranger.headers
    assert_error(
        await client.get(f"/api/analytics/ai-attribution?trader_id={trader.id}", headers=headers),
        403,
        "FORBIDDEN",
    )
    order_id = records[0]["outcomes"][0]["order_ids"][0]
    assert_error(
        await client.get(f"/api/analytics/replay/{order_id}", headers=headers), 403, "FORBIDDEN"
    )
    assert_error(
        await client.get(f"/api/analytics/summary?user_id={trader.user['id']}", headers=headers),
        403,
        "FORBIDDEN",
    )
    own = await client.get(f"/api/analytics/summary?user_id={stranger.user['id']}", headers=headers)
    assert own.status_code == 200
    assert_error(
        await client.get(f"/api/analytics/summary?account_id={trader.id}", headers=headers),
        403,
        "FORBIDDEN",
    )
    mine = await stranger.get("/api/analytics/summary", days=1, account_id=stranger.id)
    assert mine["total_trades"] == 0 and mine["traders"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "summary?days=0",
        "summary?days=abc",
        "by-symbol?period=5m",
        "summary?user_id=x",
        "ai-attribution?trader_id=0",
        "trades?account_id=-1",
    ],
)
async def test_bad_query_parameters_get_the_contracts_error_shape(api: Api, query: str) -> None:
    _, token = await api.user()
    response = await api.client.get(f"/api/analytics/{query}", headers=api.bearer(token))
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_analytics_need_a_session(api: Api) -> None:
    assert_error(await api.client.get("/api/analytics/summary"), 401, "AUTH_REQUIRED")
