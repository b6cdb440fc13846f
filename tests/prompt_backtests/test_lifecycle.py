"""A prompt backtest from submission to result: progress and cost, the builtin model
offline, and a rerun that replays every answer from the cache."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import FastAPI

from tests.accounts.helpers import create_trader
from tests.helpers import Api, stored_bytes
from tests.prompt_backtests.helpers import (
    API_KEY,
    SNAPSHOTS,
    llm_trader,
    own_prompt,
    snapshots,
    submit,
    wait_finished,
)
from tests.strategies.fake_llm import FakeLlm, Reply, completion

TASK_FIELDS = {
    "id",
    "status",
    "progress",
    "sample_count",
    "account_id",
    "prompt_id",
    "started_at",
    "finished_at",
    "calls",
    "cached_calls",
    "prompt_tokens",
    "completion_tokens",
}
METRICS = (
    "total_pnl",
    "total_pnl_percent",
    "total_trades",
    "win_rate",
    "profit_factor",
    "sharpe_ratio",
    "max_drawdown_pct",
    "final_equity",
    "equity_curve",
    "trades",
    "fingerprint",
)


def answer(**decision: object) -> Reply:
    usage = {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}
    return Reply(body=completion(json.dumps(decision), usage=usage))


async def test_builtin_model_backtest_runs_offline(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="builtin")
    prompt = await own_prompt(api, token)
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    assert set(task) >= TASK_FIELDS and task["status"] == "queued"
    done = await wait_finished(api, token, task["id"], include="trades,equity")
    assert done["status"] == "completed", done
    assert done["sample_count"] == done["snapshots_done"] == SNAPSHOTS
    assert done["progress"] == 100
    assert (done["calls"], done["cached_calls"], done["prompt_tokens"]) == (SNAPSHOTS, 0, 0)
    assert done["llm_model"].startswith("builtin")
    assert all(done[name] is not None or name in ("win_rate", "profit_factor") for name in METRICS)
    assert len(done["fingerprint"]) == 64 and done["equity_curve"]
    assert llm.requests == []  # no network model was asked
    # The builtin model is deterministic: the same inputs replay to the same trades.
    again = await wait_finished(
        api, token, (await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"]))["id"]
    )
    assert again["fingerprint"] == done["fingerprint"]


async def test_cost_is_reported_and_a_rerun_replays_from_the_cache(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    hold = {"operation": "hold", "symbol": "BTC", "reasoning": "wait"}
    llm.queue(
        answer(operation="long", symbol="BTC", leverage=2, size_pct=20, reasoning="up"),
        answer(**hold),
        answer(**hold),
        answer(operation="close", symbol="BTC", reasoning="done"),
    )
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    first = await wait_finished(api, token, task["id"], include="trades")
    assert first["status"] == "completed", first
    # One model call per snapshot; unqueued requests get the fake's default hold (120/30).
    assert len(llm.requests) == SNAPSHOTS
    assert (first["calls"], first["cached_calls"], first["failed_snapshots"]) == (SNAPSHOTS, 0, 0)
    assert first["prompt_tokens"] == 4 * 1000 + (SNAPSHOTS - 4) * 120
    assert first["completion_tokens"] == 4 * 50 + (SNAPSHOTS - 4) * 30
    assert first["total_trades"] == 1 and first["trades"][0]["side"] == "long"
    assert first["trades"][0]["exit_time"] is not None
    # The prompt the model got is the one recorded on the snapshot.
    taken = await snapshots(api, token, task["id"])
    assert [s["bar_index"] for s in taken] == list(range(SNAPSHOTS))
    sent = llm.requests[0].body["messages"][-1]["content"]
    assert sent == taken[0]["rendered_prompt"]
    assert taken[0]["outcomes"][0]["execution"]["status"] == "filled"
    assert llm.requests[0].headers["authorization"] == f"Bearer {API_KEY}"

    rerun = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    second = await wait_finished(api, token, rerun["id"])
    assert second["status"] == "completed", second
    assert len(llm.requests) == SNAPSHOTS  # not one more call
    assert (second["calls"], second["cached_calls"]) == (0, SNAPSHOTS)
    assert (second["prompt_tokens"], second["completion_tokens"]) == (0, 0)
    assert second["fingerprint"] == first["fingerprint"]
    assert second["metrics"] == first["metrics"]
    assert all(s["cached"] for s in await snapshots(api, token, rerun["id"]))
    # The trader's key is used for the calls and stored nowhere in plain text.
    assert API_KEY.encode() not in await stored_bytes(app, app.state.settings)


async def test_a_stop_loss_fill_shows_in_the_next_snapshots_recent_trades(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    # A stop a hair under the decision's close: the next 4-hour bar reaches it.
    llm.queue(answer(operation="long", symbol="BTC", leverage=2, size_pct=20, stop_loss_pct=0.01))
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    done = await wait_finished(api, token, task["id"], include="trades")
    assert done["status"] == "completed", done
    (trade,) = done["trades"]
    assert trade["exit_reason"] == "stop_loss"
    last = (await snapshots(api, token, task["id"]))[-1]["rendered_prompt"]
    fills = [line for line in last.splitlines() if " BTC buy " in line or " BTC sell " in line]
    # Newest first: the stop's sell, then the decided buy.
    assert [" sell " in fills[0], " buy " in fills[1]] == [True, True], fills
    assert f"at {_plain(trade['exit_price'])}" in fills[0]


def _plain(number: float) -> str:
    """A price as the prompt writes it: no trailing zeros, no trailing point."""
    text = format(Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
