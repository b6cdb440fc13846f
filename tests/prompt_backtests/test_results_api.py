"""A prompt backtest's poll is light (summary, progress, cost, metrics): the curve, the
trades and the snapshots come with ``?include=`` or from their own paged routes, in the
contract's JSON types (numbers, ``Z`` times, the curve's ``timestamp``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import undefer

from hyperoru.prompt_backtests.models import PromptBacktest
from hyperoru.replay.fingerprint import fingerprint
from tests.helpers import Api, assert_error
from tests.prompt_backtests.helpers import SNAPSHOTS, llm_trader, own_prompt, submit, wait_finished
from tests.strategies.fake_llm import FakeLlm, Reply, completion

LONG_PARTS = {"trades", "equity_curve", "decisions"}


def _decide(**decision: object) -> Reply:
    return Reply(body=completion(json.dumps(decision)))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def _traded(api: Api, llm: FakeLlm) -> tuple[str, dict[str, Any]]:
    """A completed backtest with one round trip (long, then closed)."""
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    hold = {"operation": "hold", "symbol": "BTC", "reasoning": "wait"}
    llm.queue(
        _decide(operation="long", symbol="BTC", leverage=2, size_pct=20, reasoning="up"),
        _decide(**hold),
        _decide(operation="close", symbol="BTC", reasoning="done"),
    )
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    assert not LONG_PARTS & set(task)
    done = await wait_finished(api, token, task["id"])
    assert done["status"] == "completed", done
    return token, done


async def test_a_poll_is_light_and_include_adds_the_parts(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    token, done = await _traded(api, llm)
    assert not LONG_PARTS & set(done), "a poll carries no long part"
    assert done["total_trades"] == 1 and len(done["fingerprint"]) == 64
    for prefix in ("/api/prompt-backtests", "/api/prompt-backtest/tasks"):
        path = f"{prefix}/{done['id']}"
        full = await api.client.get(
            path, params={"include": "trades,equity,decisions"}, headers=api.bearer(token)
        )
        assert full.status_code == 200, full.text
        body = full.json()
        assert len(body["trades"]) == 1 and body["trades"][0]["side"] == "long"
        assert len(body["equity_curve"]) == SNAPSHOTS + 1
        assert [s["bar_index"] for s in body["decisions"]] == list(range(SNAPSHOTS))
        some = await api.client.get(
            path, params={"include": "equity_curve"}, headers=api.bearer(token)
        )
        assert set(some.json()) & LONG_PARTS == {"equity_curve"}
        wrong = await api.client.get(path, params={"include": "logs"}, headers=api.bearer(token))
        assert_error(wrong, 400, "VALIDATION_ERROR")


async def test_trades_and_curve_have_paged_routes(world: tuple[FastAPI, Api], llm: FakeLlm) -> None:
    _, api = world
    token, done = await _traded(api, llm)
    assert done["trades_url"] == f"/api/prompt-backtests/{done['id']}/trades"
    curve = await api.client.get(done["equity_url"], headers=api.bearer(token))
    assert curve.headers["x-total-count"] == str(SNAPSHOTS + 1)
    whole = curve.json()
    pages: list[dict[str, Any]] = []
    for page in (1, 2, 3):
        response = await api.client.get(
            f"/api/prompt-backtest/tasks/{done['id']}/equity",
            params={"page": page, "per_page": 5},
            headers=api.bearer(token),
        )
        pages.extend(response.json())
    assert pages == whole and len(whole) == SNAPSHOTS + 1
    trades = await api.client.get(
        done["trades_url"], params={"limit": 1, "offset": 1}, headers=api.bearer(token)
    )
    assert trades.json() == [] and trades.headers["x-total-count"] == "1"

    _, intruder = await api.user()
    refused = await api.client.get(done["trades_url"], headers=api.bearer(intruder))
    assert_error(refused, 403, "FORBIDDEN")
    missing = await api.client.get(
        "/api/prompt-backtests/2000000000/equity", headers=api.bearer(token)
    )
    assert_error(missing, 404, "PROMPT_BACKTEST_NOT_FOUND")


async def test_numbers_and_times_are_in_the_contracts_json_types(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    token, done = await _traded(api, llm)
    config = done["config"]
    assert config["start_date"] == "2026-01-01T00:00:00Z" and config["end_date"].endswith("Z")
    for name in ("initial_balance", "slippage_pct", "maker_fee_pct", "taker_fee_pct"):
        assert _number(config[name]), (name, config[name])
    assert config["initial_balance"] == 10000 and config["slippage_pct"] == 0.05
    assert all(_number(v) or v is None for v in done["metrics"].values()), done["metrics"]
    assert _number(done["total_pnl"]) and done["total_pnl"] == done["metrics"]["total_pnl"]

    async with app.state.services.sessionmaker() as session:
        stored = await session.get(
            PromptBacktest,
            done["id"],
            options=[undefer(PromptBacktest.trades), undefer(PromptBacktest.equity_curve)],
        )
        assert stored is not None and stored.trades and stored.equity_curve
    (trade,) = (await api.client.get(done["trades_url"], headers=api.bearer(token))).json()
    (exact,) = stored.trades
    for name in ("quantity", "entry_price", "exit_price", "pnl", "fees"):
        assert _number(trade[name]) and trade[name] == float(Decimal(exact[name])), name
    assert trade["entry_time"].endswith("Z") and trade["exit_time"].endswith("Z")
    first = (await api.client.get(done["equity_url"], headers=api.bearer(token))).json()[0]
    assert first == {
        "timestamp": stored.equity_curve[0]["time"],
        "equity": float(Decimal(stored.equity_curve[0]["equity"])),
    }
    assert done["fingerprint"] == fingerprint(stored.trades)

    # The snapshots' parsed decisions and outcomes too (inline and on their own route).
    reads = ((done["status_url"], {"include": "decisions"}), (done["snapshots_url"], {}))
    for url, params in reads:
        response = await api.client.get(url, params=params, headers=api.bearer(token))
        listed = response.json()
        first_snapshot = listed["decisions"][0] if isinstance(listed, dict) else listed[0]
        (decision,) = first_snapshot["decisions"]
        assert decision["operation"] == "long" and decision["leverage"] == 2
        assert _number(decision["size_fraction"]) and decision["reasoning"] == "up"
        (outcome,) = first_snapshot["outcomes"]
        order, execution = outcome["order"], outcome["execution"]
        assert _number(order["quantity"]) and order["quantity"] >= trade["quantity"] > 0
        assert execution["filled_quantity"] == trade["quantity"]
        assert execution["average_price"] == trade["entry_price"]
        assert execution["time"].endswith("Z") and outcome["approved"] is True
