"""Who may backtest what (403 for another user's trader, prompt or task; 404 for a
missing one), the request's validation, the size and concurrency caps, and the cache
never serving one user's answers to another."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from hyperoru.prompt_backtests.service import MAX_ACTIVE_PER_USER, MAX_SNAPSHOTS
from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.prompt_backtests.helpers import (
    RANGE,
    SNAPSHOTS,
    llm_trader,
    own_prompt,
    submit,
    wait_finished,
)
from tests.strategies.fake_llm import HOLD, FakeLlm, Reply

MISSING = 2_000_000_000


async def _post(api: Api, token: str, body: dict[str, Any], path: str = "/api/prompt-backtests"):
    return await api.client.post(path, json=body, headers=api.bearer(token))


def _body(trader_id: int, prompt_id: int, **config: Any) -> dict[str, Any]:
    return {
        "prompt_id": prompt_id,
        "account_id": trader_id,
        "config": {"symbols": ["BTC"], **RANGE, **config},
    }


async def test_traders_prompts_and_tasks_are_the_owners_only(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    _, alice = await api.user()
    _, bob = await api.user()
    alices_trader = await create_trader(api, alice, llm_provider="builtin")
    alices_prompt = await own_prompt(api, alice)
    bobs_trader = await create_trader(api, bob, llm_provider="builtin")
    bobs_prompt = await own_prompt(api, bob)

    assert_error(
        await _post(api, bob, _body(alices_trader["id"], bobs_prompt["id"])), 403, "FORBIDDEN"
    )
    assert_error(
        await _post(api, bob, _body(bobs_trader["id"], alices_prompt["id"])), 403, "FORBIDDEN"
    )
    assert_error(await _post(api, bob, _body(MISSING, bobs_prompt["id"])), 404, "ACCOUNT_NOT_FOUND")
    assert_error(await _post(api, bob, _body(bobs_trader["id"], MISSING)), 404, "PROMPT_NOT_FOUND")

    # A built-in template is everyone's to backtest; trader_id is the documented spelling.
    listed = (await api.client.get("/api/prompts/", headers=api.bearer(alice))).json()
    builtin = next(p for p in listed if p["is_system"])
    task = await submit(
        api, alice, trader_id=alices_trader["id"], prompt_id=builtin["id"],
        path="/api/prompt-backtest/tasks",
    )  # fmt: skip
    assert task["prompt_id"] == builtin["id"] and task["trader_id"] == alices_trader["id"]
    await wait_finished(api, alice, task["id"])

    for method, suffix in (("GET", ""), ("GET", "/snapshots"), ("DELETE", "")):
        for base in ("/api/prompt-backtests", "/api/prompt-backtest/tasks"):
            theirs = await api.client.request(
                method, f"{base}/{task['id']}{suffix}", headers=api.bearer(bob)
            )
            assert_error(theirs, 403, "FORBIDDEN")
            missing = await api.client.request(
                method, f"{base}/{MISSING}{suffix}", headers=api.bearer(bob)
            )
            assert_error(missing, 404, "PROMPT_BACKTEST_NOT_FOUND")
    alias = await api.client.get(
        f"/api/prompt-backtest/tasks/{task['id']}", headers=api.bearer(alice)
    )
    assert alias.status_code == 200 and alias.json()["status"] == "completed"
    mine = (await api.client.get("/api/prompt-backtests", headers=api.bearer(alice))).json()
    assert [t["id"] for t in mine] == [task["id"]]
    assert (await api.client.get("/api/prompt-backtests", headers=api.bearer(bob))).json() == []
    paged = await api.client.get(
        "/api/prompt-backtests", params={"page": 2, "per_page": 1}, headers=api.bearer(alice)
    )
    assert paged.status_code == 200 and paged.json() == []
    anonymous = await api.client.get("/api/prompt-backtests")
    assert_error(anonymous, 401, "AUTH_REQUIRED")


@pytest.mark.parametrize(
    ("config", "status", "code"),
    [
        ({"interval": "2h"}, 400, "VALIDATION_ERROR"),
        ({"start_date": None, "start": None}, 400, "VALIDATION_ERROR"),
        ({"start_date": "2026-01-03", "end_date": "2026-01-01"}, 400, "VALIDATION_ERROR"),
        ({"start_date": "yesterday"}, 400, "VALIDATION_ERROR"),
        ({"initial_balance": 0}, 400, "VALIDATION_ERROR"),
        ({"taker_fee_pct": -1}, 400, "VALIDATION_ERROR"),
        ({"symbols": ["NOPE"]}, 404, "SYMBOL_NOT_FOUND"),
        ({"slippage_pct": 5}, 400, "VALIDATION_ERROR"),
        ({"interval": "1m"}, 400, "VALIDATION_ERROR"),
    ],
)
async def test_invalid_requests_are_refused(
    world: tuple[FastAPI, Api], config: dict[str, Any], status: int, code: str
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="builtin")
    prompt = await own_prompt(api, token)
    body = _body(trader["id"], prompt["id"], **config)
    body["config"] = {k: v for k, v in body["config"].items() if v is not None}
    refused = assert_error(await _post(api, token, body), status, code)
    if config.get("interval") == "1m":
        assert refused["details"]["max_snapshots"] == MAX_SNAPSHOTS
        assert "one paid call per snapshot" in refused["message"]


async def test_malformed_bodies_and_disagreeing_ids(world: tuple[FastAPI, Api]) -> None:
    _, api = world
    _, token = await api.user()
    trader = await create_trader(api, token, llm_provider="builtin")
    prompt = await own_prompt(api, token)
    body = _body(trader["id"], prompt["id"])
    assert_error(await _post(api, token, {**body, "trader_id": MISSING}), 400, "VALIDATION_ERROR")
    assert_error(await _post(api, token, {"prompt_id": prompt["id"]}), 400, "VALIDATION_ERROR")
    no_trader = {"prompt_id": prompt["id"], "config": body["config"]}
    assert_error(await _post(api, token, no_trader), 400, "VALIDATION_ERROR")
    not_json = await api.client.post(
        "/api/prompt-backtests",
        content=b"{",
        headers={**api.bearer(token), "Content-Type": "application/json"},
    )
    assert_error(not_json, 400, "INVALID_JSON")
    unconfigured = await create_trader(api, token)  # no model, no builtin
    assert_error(
        await _post(api, token, _body(unconfigured["id"], prompt["id"])),
        422,
        "MODEL_NOT_CONFIGURED",
    )


async def test_concurrent_backtests_per_user_are_capped(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    llm.queue(*[Reply(body=HOLD, delay=0.5) for _ in range(4)])
    running = [
        await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
        for _ in range(MAX_ACTIVE_PER_USER)
    ]
    refused = await _post(api, token, _body(trader["id"], prompt["id"]))
    body = assert_error(refused, 429, "TOO_MANY_BACKTESTS")
    assert body["details"] == {"limit": MAX_ACTIVE_PER_USER, "active": MAX_ACTIVE_PER_USER}
    for task in running:
        stopped = await api.client.delete(
            f"/api/prompt-backtests/{task['id']}", headers=api.bearer(token)
        )
        assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])


async def test_the_cache_never_serves_another_users_answers(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    for expected_calls in (SNAPSHOTS, 2 * SNAPSHOTS):
        _, token = await api.user()
        trader = await llm_trader(api, token, llm)
        prompt = await own_prompt(api, token)
        task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
        done = await wait_finished(api, token, task["id"])
        # Same template, same market, same model: still asked again for the second user.
        assert (done["calls"], done["cached_calls"]) == (SNAPSHOTS, 0)
        assert len(llm.requests) == expected_calls
