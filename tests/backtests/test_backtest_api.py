"""Validation, ownership and history of the program backtest routes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.helpers import create_trader
from tests.backtests.support import END, START, create_program, request_body, settled, submit
from tests.helpers import Api, assert_error

BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"start_date": "2026-01-04", "end_date": "2026-01-01"}, "config.start_date"),
    ({"start_date": "2026-01-01", "end_date": "2026-01-01"}, "config.start_date"),
    ({"start_date": "yesterday"}, "config.start_date"),
    ({"end_date": "2026-13-01"}, "config.end_date"),
    ({"start_date": "1999-12-31"}, "config.start_date"),
    ({"start_date": "2100-01-01", "end_date": "2100-02-01"}, "config.start_date"),
    ({"interval": "2h"}, "config.interval"),
    ({"interval": "1m", "start_date": "2025-01-01", "end_date": "2026-01-01"}, "config.start_date"),
    ({"symbols": []}, "config.symbols"),
    ({"symbols": ["BTC/USD"]}, "config.symbols.0"),
    ({"initial_balance": 0}, "config.initial_balance"),
    ({"slippage_pct": -1}, "config.slippage_pct"),
    ({"taker_fee_pct": 7}, "config.taker_fee_pct"),
    ({"trigger_interval": "fortnight"}, "config.trigger_interval"),
]


@pytest.mark.parametrize(("config", "field"), BAD_CONFIGS)
async def test_bad_configs_are_refused_with_the_field(
    api: Api, config: dict[str, Any], field: str
) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token)
    response = await api.client.post(
        "/api/backtests", json=request_body(program_id, **config), headers=api.bearer(token)
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in [f["field"] for f in body["details"]["fields"]], body


async def test_requests_naming_what_the_caller_cannot_use_are_refused(api: Api) -> None:
    _, token = await api.user()
    _, other = await api.user()
    mine = await create_program(api, token)
    theirs = await create_program(api, other)
    their_trader = await create_trader(api, other)

    async def post(body: dict[str, Any]) -> Any:
        return await api.client.post("/api/backtests", json=body, headers=api.bearer(token))

    assert_error(await post(request_body(theirs)), 403, "FORBIDDEN")
    assert_error(await post(request_body(2_000_000)), 404, "PROGRAM_NOT_FOUND")
    deleted = await create_program(api, token)
    await api.client.delete(f"/api/programs/{deleted}", headers=api.bearer(token))
    assert_error(await post(request_body(deleted)), 404, "PROGRAM_NOT_FOUND")
    unknown = assert_error(
        await post(request_body(mine, symbols=["BTC", "NOPE"])), 404, "SYMBOL_NOT_FOUND"
    )
    assert unknown["details"] == {"symbols": ["NOPE"]}
    assert_error(await post(request_body(mine, account_id=their_trader["id"])), 403, "FORBIDDEN")
    assert_error(await post(request_body(mine, account_id=2_000_000)), 404, "ACCOUNT_NOT_FOUND")
    assert_error(await post(request_body(mine, signal_pool_ids=[2_000_000])), 404, "POOL_NOT_FOUND")
    assert_error(await post({"config": request_body(mine)["config"]}), 400, "VALIDATION_ERROR")
    assert_error(await post({"program_id": mine}), 400, "VALIDATION_ERROR")
    no_body = await api.client.post("/api/backtests", headers=api.bearer(token))
    assert_error(no_body, 400, "VALIDATION_ERROR")
    assert (await api.client.get("/api/backtests", headers=api.bearer(token))).json() == []


async def test_a_traders_limits_and_fees_are_used(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token)
    trader = await create_trader(api, token)
    body = request_body(
        program_id, account_id=trader["id"], maker_fee_pct=0.02, trigger_interval="4h"
    )
    job = await submit(api, token, body)
    assert job["account_id"] == trader["id"] == job["backtest"]["account_id"]
    config = job["config"]
    assert config["maker_fee_pct"] == 0.02 and config["taker_fee_pct"] == 0.045
    assert config["trigger_interval"] == 4 * 3600
    assert config["max_leverage"] == trader["max_leverage"]
    assert (config["venue"], config["margin_mode"]) == ("hyperliquid", "cross")
    assert (await settled(api, token, job["id"]))["status"] == "completed"


async def test_a_traders_backtest_pays_the_fees_its_paper_fills_pay(api: Api) -> None:
    """One rule for a trader's fees: its own rate, else its venue's base tier (here
    Binance's maker 0.02 %), whatever venue's data is replayed; prompt backtests too."""
    _, token = await api.user()
    program_id = await create_program(api, token)
    trader = await create_trader(
        api,
        token,
        exchange="binance",
        taker_fee_rate=0.0007,
        llm_provider="builtin",
        margin_mode="isolated",
    )
    job = await submit(api, token, request_body(program_id, account_id=trader["id"]))
    assert (job["config"]["maker_fee_pct"], job["config"]["taker_fee_pct"]) == (0.02, 0.07)
    # Its venue's rule for fired TP/SL orders and its margin mode, as on paper.
    assert (job["config"]["venue"], job["config"]["margin_mode"]) == ("binance", "isolated")
    prompt = await api.client.post(
        "/api/prompts/", json={"name": "p", "content": "{market_prices}"}, headers=api.bearer(token)
    )
    response = await api.client.post(
        "/api/prompt-backtests",
        json={
            "prompt_id": prompt.json()["id"],
            "account_id": trader["id"],
            "config": {"symbols": ["BTC"], "interval": "4h", "start_date": START, "end_date": END},
        },
        headers=api.bearer(token),
    )
    assert response.status_code == 202, response.text
    config = response.json()["config"]
    assert (float(config["maker_fee_pct"]), float(config["taker_fee_pct"])) == (0.02, 0.07)
    assert (config["venue"], config["margin_mode"]) == ("binance", "isolated")
    assert (await settled(api, token, job["id"]))["status"] == "completed"


async def test_backtests_belong_to_their_owner(api: Api) -> None:
    _, token = await api.user()
    _, intruder = await api.user()
    program_id = await create_program(api, token)
    job = await submit(api, token, request_body(program_id))
    path = f"/api/backtests/{job['id']}"
    for method in ("GET", "DELETE"):
        response = await api.client.request(method, path, headers=api.bearer(intruder))
        assert_error(response, 403, "FORBIDDEN")
    assert (await api.client.get("/api/backtests", headers=api.bearer(intruder))).json() == []
    for missing in (job["id"] + 1000, 2_000_000_000):
        for method in ("GET", "DELETE"):
            response = await api.client.request(
                method, f"/api/backtests/{missing}", headers=api.bearer(token)
            )
            assert_error(response, 404, "BACKTEST_NOT_FOUND")
    done = await settled(api, token, job["id"])
    assert done["status"] == "completed"  # the intruder's delete changed nothing


async def test_history_is_newest_first_and_paginated(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token)
    ids = []
    for symbol in ("BTC", "ETH", "SOL"):
        body = request_body(program_id, symbols=[symbol], interval="4h")
        ids.append((await submit(api, token, body))["id"])
    for backtest_id in ids:
        await settled(api, token, backtest_id)

    listed = (await api.client.get("/api/backtests", headers=api.bearer(token))).json()
    assert [b["id"] for b in listed] == ids[::-1]
    assert all(b["status"] == "completed" and b["fingerprint"] for b in listed)
    assert all("trades" not in b and "equity_curve" not in b for b in listed)
    assert listed[0]["config"]["symbols"] == ["SOL"]
    assert listed[0]["config"]["start_date"] == START and listed[0]["config"]["end_date"] == END

    first = await api.client.get("/api/backtests?limit=2", headers=api.bearer(token))
    assert [b["id"] for b in first.json()] == ids[:0:-1]
    second = await api.client.get("/api/backtests?page=2&per_page=2", headers=api.bearer(token))
    assert [b["id"] for b in second.json()] == ids[:1]
