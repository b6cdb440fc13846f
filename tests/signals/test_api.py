"""/api/signals, /api/bindings and the program pickers: shapes, validation naming the
offending field, and ownership (403 for another user's, 404 when missing)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.signals.domain import signal_runtime_for
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.signals.market import CandleMarket
from tests.signals.paths import UPTICK

RSI_OVERSOLD = {
    "name": "RSI oversold",
    "type": "threshold",
    "config": {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30},
}
EMA_BREAKOUT = {
    "name": "Price over EMA 50",
    "type": "crossover",
    "config": {"indicator": "price", "operator": "crosses_above", "threshold": "ema_50"},
}


async def _post(api: Api, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.post(path, json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def user_story(api: Api, token: str) -> tuple[list[int], dict[str, Any]]:
    """RSI(14) < 30 AND price crosses above EMA(50) on BTC or ETH."""
    ids = [
        (await _post(api, token, "/api/signals/definitions", body))["id"]
        for body in (RSI_OVERSOLD, EMA_BREAKOUT)
    ]
    pool = await _post(
        api,
        token,
        "/api/signals/pools",
        {"name": "Oversold breakout", "signal_ids": ids, "symbols": ["btc", "ETH"]},
    )
    return ids, pool


async def test_the_user_story_end_to_end_through_a_binding(
    world: tuple[FastAPI, Api, CandleMarket],
) -> None:
    """Build "RSI(14) < 30 AND price crosses above EMA(50) on BTC or ETH", bind it to a
    trader, and see the trader decide exactly when it fires, with the reason recorded."""
    app, api, market = world
    _, token = await api.user()
    h = api.bearer(token)
    ids, pool = await user_story(api, token)
    assert pool["logic"] == "and" and pool["symbols"] == ["BTC", "ETH"]
    assert pool["signal_ids"] == ids and pool["signals_count"] == 2
    assert pool["enabled"] is True and pool["cooldown_seconds"] == 300
    assert pool["last_fired_at"] is None

    listed = (await api.client.get("/api/signals/", headers=h)).json()
    assert [d["id"] for d in listed["definitions"]] == ids
    assert listed["definitions"][0]["config"] == RSI_OVERSOLD["config"]
    assert [p["id"] for p in listed["pools"]] == [pool["id"]]
    pickers = await api.client.get("/api/programs/signal-pools/", headers=h)
    assert pickers.json() == [{"id": pool["id"], "name": "Oversold breakout", "signals_count": 2}]

    # Bind it to a trader that otherwise never runs (no schedule, no pools of its own).
    trader = await create_trader(api, token, llm_provider="builtin")
    await api.client.put(
        f"/api/account/{trader['id']}/strategy",
        json={"symbols": ["BTC", "ETH"], "scheduled_trigger_enabled": False},
        headers=h,
    )
    binding = await _post(
        api, token, "/api/bindings", {"account_id": trader["id"], "signal_pool_ids": [pool["id"]]}
    )

    async def decisions() -> list[dict[str, Any]]:
        return (await api.client.get(f"/api/account/{trader['id']}/decisions", headers=h)).json()

    runtime = signal_runtime_for(app)
    # RSI(14) is under 30 on BTC, but the price is still under its EMA(50): no decision.
    assert await runtime.tick() == [] and await runtime.tick() == []
    assert await decisions() == []
    # The price crosses above the EMA(50) while the RSI is still under 30: it fires.
    await market.set("BTC", str(UPTICK))
    [firing] = await runtime.tick()
    await runtime.drain()
    [record] = await decisions()
    assert record["status"] == "ok" and record["binding_id"] == binding["id"]
    assert record["trigger_type"] == "signal" and record["trigger"]["pool_id"] == pool["id"]
    assert record["trigger"]["values"]["symbols"] == ["BTC"]
    reasons = {s["name"]: s for s in record["trigger"]["values"]["signals"]}
    assert reasons["RSI oversold"]["value"] < 30
    cross = reasons["Price over EMA 50"]
    assert cross["previous"] <= cross["threshold_value"] < cross["value"] == pytest.approx(UPTICK)
    assert record["reasoning"]  # what the model made of it, recorded with the reason
    # Still true on the next tick: no new edge, no second decision.
    assert await runtime.tick() == [] and len(await decisions()) == 1
    log = (await api.client.get(f"/api/signals/pools/{pool['id']}/triggers", headers=h)).json()
    assert [(t["symbols"], t["account_ids"]) for t in log] == [(["BTC"], [trader["id"]])]
    assert firing.account_ids == (trader["id"],)


async def test_definition_and_pool_updates_and_deletes(api: Api) -> None:
    _, token = await api.user()
    ids, pool = await user_story(api, token)
    h = api.bearer(token)
    changed = await api.client.put(
        f"/api/signals/definitions/{ids[0]}",
        json={"config": {"indicator": "rsi", "direction": "below", "threshold": 25}},
        headers=h,
    )
    assert changed.status_code == 200 and changed.json()["config"]["threshold"] == 25
    in_use = await api.client.delete(f"/api/signals/definitions/{ids[0]}", headers=h)
    assert_error(in_use, 409, "SIGNAL_IN_USE")
    updated = await api.client.put(
        f"/api/signals/pools/{pool['id']}",
        json={"logic": "or", "signal_ids": [ids[1]], "cooldown_seconds": 0},
        headers=h,
    )
    assert updated.status_code == 200
    assert updated.json()["logic"] == "or" and updated.json()["signal_ids"] == [ids[1]]
    assert (
        await api.client.delete(f"/api/signals/definitions/{ids[0]}", headers=h)
    ).status_code == 204
    assert (
        await api.client.delete(f"/api/signals/pools/{pool['id']}", headers=h)
    ).status_code == 204
    gone = await api.client.get(f"/api/signals/pools/{pool['id']}", headers=h)
    assert_error(gone, 404, "POOL_NOT_FOUND")
    gone = await api.client.get(f"/api/signals/definitions/{ids[0]}", headers=h)
    assert_error(gone, 404, "SIGNAL_NOT_FOUND")


@pytest.mark.parametrize(
    ("signal_type", "config", "field"),
    [
        (
            "threshold",
            {"indicator": "stochastic", "operator": "<", "threshold": 20},
            "config.indicator",
        ),
        ("threshold", {"operator": "<", "threshold": 20}, "config.indicator"),
        ("threshold", {"indicator": "rsi", "operator": "=<", "threshold": 20}, "config.operator"),
        (
            "threshold",
            {"indicator": "rsi", "direction": "sideways", "threshold": 20},
            "config.direction",
        ),
        (
            "threshold",
            {"indicator": "rsi", "operator": "crosses_above", "threshold": 20},
            "config.operator",
        ),
        ("crossover", {"indicator": "price", "operator": ">", "threshold": 1}, "config.operator"),
        (
            "threshold",
            {"indicator": "price", "operator": ">", "threshold": "ema_fifty"},
            "config.threshold",
        ),
        (
            "threshold",
            {"indicator": "price", "operator": ">", "threshold": "__import__('os')"},
            "config.threshold",
        ),
        (
            "threshold",
            {"indicator": "price", "operator": ">", "threshold": "wma_50"},
            "config.threshold",
        ),
        (
            "threshold",
            {"indicator": "price", "operator": ">", "reference": "ema_0"},
            "config.reference",
        ),
        (
            "threshold",
            {"indicator": "volume", "operator": ">", "threshold": "2xavg"},
            "config.threshold",
        ),
        (
            "threshold",
            {"indicator": "price", "operator": ">", "threshold": True},
            "config.threshold",
        ),
        ("threshold", {"indicator": "price", "operator": ">"}, "config.threshold"),
        (
            "threshold",
            {"indicator": "rsi", "period": 0, "operator": "<", "threshold": 3},
            "config.period",
        ),
        (
            "threshold",
            {"indicator": "rsi", "interval": "7m", "operator": "<", "threshold": 3},
            "config.interval",
        ),
        (
            "crossover",
            {"indicator": "funding_rate", "operator": "crosses_above", "threshold": 0},
            "config.operator",
        ),
        ("pattern", {"pattern": "(a+)+$"}, "config.pattern"),
        ("pattern", {"pattern": "head_and_shoulders"}, "config.pattern"),
        ("momentum", {"indicator": "rsi", "operator": "<", "threshold": 3}, "type"),
    ],
)
async def test_invalid_configs_name_the_field(
    api: Api, signal_type: str, config: dict[str, Any], field: str
) -> None:
    _, token = await api.user()
    body = {"name": "bad", "type": signal_type, "config": config}
    response = await api.client.post(
        "/api/signals/definitions", json=body, headers=api.bearer(token)
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [f["field"] for f in error["details"]["fields"]] == [field]


async def test_pool_validation(api: Api) -> None:
    _, token = await api.user()
    ids, _ = await user_story(api, token)
    h = api.bearer(token)
    for body, field in (
        ({"name": "p", "signal_ids": ids, "symbols": ["BTC"], "logic": "xor"}, "logic"),
        ({"name": "p", "signal_ids": [], "symbols": ["BTC"]}, "signal_ids"),
        ({"name": "p", "signal_ids": ids, "symbols": ["BTC-USD"]}, "symbols"),
        (
            {"name": "p", "signal_ids": ids, "symbols": ["BTC"], "cooldown_seconds": -1},
            "cooldown_seconds",
        ),
    ):
        response = await api.client.post("/api/signals/pools", json=body, headers=h)
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert field in error["details"]["fields"][0]["field"]
    missing = await api.client.post(
        "/api/signals/pools",
        json={"name": "p", "signal_ids": [2_000_000_000], "symbols": ["BTC"]},
        headers=h,
    )
    assert_error(missing, 404, "SIGNAL_NOT_FOUND")


async def test_bindings_crud(api: Api) -> None:
    _, token = await api.user()
    h = api.bearer(token)
    _, pool = await user_story(api, token)
    trader = await create_trader(api, token, llm_provider="builtin")
    prompts = (await api.client.get("/api/prompts/", headers=h)).json()
    binding = await _post(
        api,
        token,
        "/api/bindings",
        {
            "account_id": trader["id"],
            "prompt_id": prompts[0]["id"],
            "signal_pool_ids": [pool["id"], pool["id"]],
            "params_override": {"size_pct": 5},
        },
    )
    assert binding["strategy_type"] == "prompt" and binding["signal_pool_ids"] == [pool["id"]]
    assert binding["trigger_interval"] == 150 and binding["scheduled_trigger_enabled"] is False
    assert binding["is_active"] is True and binding["params_override"] == {"size_pct": 5}

    bad = await api.client.put(
        f"/api/bindings/{binding['id']}", json={"trigger_interval": 5}, headers=h
    )
    assert_error(bad, 422, "INVALID_TRIGGER_INTERVAL")
    both = await api.client.put(
        f"/api/bindings/{binding['id']}", json={"prompt_id": 1, "program_id": 1}, headers=h
    )
    assert_error(both, 400, "VALIDATION_ERROR")
    changed = await api.client.put(
        f"/api/bindings/{binding['id']}",
        json={"is_active": False, "trigger_interval": 300, "scheduled_trigger_enabled": True},
        headers=h,
    )
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["trigger_interval"]) == (False, 300)
    listed = (await api.client.get("/api/bindings", headers=h)).json()
    assert [b["id"] for b in listed] == [binding["id"]]

    await api.client.delete(f"/api/signals/pools/{pool['id']}", headers=h)
    after = (await api.client.get(f"/api/bindings/{binding['id']}", headers=h)).json()
    assert after["signal_pool_ids"] == []  # a deleted pool leaves its bindings
    accounts = (await api.client.get("/api/programs/accounts/", headers=h)).json()
    assert accounts == [{"id": trader["id"], "name": trader["name"], "account_type": "prompt"}]

    assert (await api.client.delete(f"/api/bindings/{binding['id']}", headers=h)).status_code == 204
    gone = await api.client.get(f"/api/bindings/{binding['id']}", headers=h)
    assert_error(gone, 404, "BINDING_NOT_FOUND")


async def test_ownership_of_definitions_pools_and_bindings(api: Api) -> None:
    _, owner = await api.user()
    _, intruder = await api.user()
    ids, pool = await user_story(api, owner)
    trader = await create_trader(api, owner, llm_provider="builtin")
    binding = await _post(
        api, owner, "/api/bindings", {"account_id": trader["id"], "signal_pool_ids": [pool["id"]]}
    )
    theirs = api.bearer(intruder)
    for method, path, body in (
        ("GET", f"/api/signals/definitions/{ids[0]}", None),
        ("PUT", f"/api/signals/definitions/{ids[0]}", {"name": "mine"}),
        ("DELETE", f"/api/signals/definitions/{ids[0]}", None),
        ("GET", f"/api/signals/pools/{pool['id']}", None),
        ("PUT", f"/api/signals/pools/{pool['id']}", {"enabled": False}),
        ("DELETE", f"/api/signals/pools/{pool['id']}", None),
        ("GET", f"/api/signals/pools/{pool['id']}/triggers", None),
        ("GET", f"/api/bindings/{binding['id']}", None),
        ("PUT", f"/api/bindings/{binding['id']}", {"is_active": False}),
        ("DELETE", f"/api/bindings/{binding['id']}", None),
    ):
        response = await api.client.request(method, path, json=body, headers=theirs)
        assert_error(response, 403, "FORBIDDEN")

    # The intruder can neither use the owner's signals, pools, prompts nor traders.
    _, their_pool = await user_story(api, intruder)
    their_trader = await create_trader(api, intruder, llm_provider="builtin")
    for path, body in (
        ("/api/signals/pools", {"name": "x", "signal_ids": ids, "symbols": ["BTC"]}),
        ("/api/bindings", {"account_id": trader["id"]}),
        ("/api/bindings", {"account_id": their_trader["id"], "signal_pool_ids": [pool["id"]]}),
    ):
        response = await api.client.post(path, json=body, headers=theirs)
        assert_error(response, 403, "FORBIDDEN")
    own_prompt = await _post(api, owner, "/api/prompts/", {"name": "mine", "content": "hi"})
    stolen_prompt = await api.client.post(
        "/api/bindings",
        json={"account_id": their_trader["id"], "prompt_id": own_prompt["id"]},
        headers=theirs,
    )
    assert_error(stolen_prompt, 403, "FORBIDDEN")
    for path, code in (("/api/bindings", "ACCOUNT_NOT_FOUND"),):
        response = await api.client.post(path, json={"account_id": 2_000_000_000}, headers=theirs)
        assert_error(response, 404, code)
    missing_program = await api.client.post(
        "/api/bindings",
        json={"account_id": their_trader["id"], "program_id": 2_000_000_000},
        headers=theirs,
    )
    assert_error(missing_program, 404, "PROGRAM_NOT_FOUND")
    missing_pool = await api.client.post(
        "/api/bindings",
        json={"account_id": their_trader["id"], "signal_pool_ids": [2_000_000_000]},
        headers=theirs,
    )
    assert_error(missing_pool, 404, "POOL_NOT_FOUND")
    for path, code in (
        ("/api/signals/definitions/2000000000", "SIGNAL_NOT_FOUND"),
        ("/api/signals/pools/2000000000", "POOL_NOT_FOUND"),
        ("/api/bindings/2000000000", "BINDING_NOT_FOUND"),
    ):
        assert_error(await api.client.get(path, headers=theirs), 404, code)

    # Lists are each user's own.
    mine = (await api.client.get("/api/signals/", headers=theirs)).json()
    assert [p["id"] for p in mine["pools"]] == [their_pool["id"]]
    assert (await api.client.get("/api/bindings", headers=theirs)).json() == []
    owner_view = await api.client.get(f"/api/bindings/{binding['id']}", headers=api.bearer(owner))
    assert owner_view.json()["is_active"] is True  # the intruder changed nothing

    # A deleted trader's bindings are gone with it.
    await api.client.delete(f"/api/account/{trader['id']}", headers=api.bearer(owner))
    gone = await api.client.get(f"/api/bindings/{binding['id']}", headers=api.bearer(owner))
    assert_error(gone, 404, "BINDING_NOT_FOUND")
