"""Bindings at run time: a firing runs each bound trader once with the strategy of the
binding that listens to the pool (its prompt or its program with ``params_override``),
records which binding ran, and never runs an inactive binding."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from hyperoru.signals.domain import signal_runtime_for
from hyperoru.signals.runtime import BoundRun
from tests.helpers import Api, assert_error
from tests.signals.market import CandleMarket
from tests.signals.paths import UPTICK
from tests.signals.test_api import user_story
from tests.signals.traders import decisions, quiet_trader

# Holds whatever its params say, so the record shows which params reached init().
PARAM_PROGRAM = """
class Strategy:
    def init(self, params):
        self.mood = params.get("mood", "none")
        self.size = params.get("size_pct", 0)

    def should_trade(self, data):
        data.log("mood", self.mood, "size", self.size)
        return Decision("hold", "BTC", reasoning=f"mood {self.mood}, size {self.size}")
"""
BINDING_PROMPT = "Binding prompt for {symbols}.\n{trigger_context}\n{output_format}"


async def post(api: Api, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.post(path, json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_firing_runs_each_bound_trader_with_its_bindings_strategy(
    world: tuple[FastAPI, Api, CandleMarket],
) -> None:
    app, api, market = world
    _, token = await api.user()
    _, pool = await user_story(api, token)
    prompt = await post(api, token, "/api/prompts/", {"name": "B", "content": BINDING_PROMPT})
    program = await post(
        api,
        token,
        "/api/programs/",
        {"name": "moody", "code": PARAM_PROGRAM, "params": {"mood": "calm", "size_pct": 3}},
    )
    by_prompt = await quiet_trader(api, token, "prompt binding")
    by_program = await quiet_trader(api, token, "program binding")
    switched_off = await quiet_trader(api, token, "inactive binding")
    prompt_binding = await post(
        api,
        token,
        "/api/bindings",
        {"account_id": by_prompt["id"], "prompt_id": prompt["id"], "signal_pool_ids": [pool["id"]]},
    )
    program_binding = await post(
        api,
        token,
        "/api/bindings",
        {
            "account_id": by_program["id"],
            "program_id": program["id"],
            "signal_pool_ids": [pool["id"]],
            "params_override": {"mood": "bold"},
        },
    )
    await post(
        api,
        token,
        "/api/bindings",
        {
            "account_id": switched_off["id"],
            "prompt_id": prompt["id"],
            "signal_pool_ids": [pool["id"]],
            "is_active": False,
        },
    )

    runtime = signal_runtime_for(app)
    assert await runtime.tick() == []  # the baseline
    await market.set("BTC", str(UPTICK))
    [firing] = await runtime.tick()
    assert firing.runs == (
        BoundRun(by_prompt["id"], prompt_binding["id"]),
        BoundRun(by_program["id"], program_binding["id"]),
    )
    await runtime.drain()

    [prompted] = await decisions(api, token, by_prompt["id"])
    assert prompted["status"] == "ok", prompted["error"]
    assert prompted["binding_id"] == prompt_binding["id"]
    assert (prompted["strategy_type"], prompted["prompt_id"]) == ("prompt", prompt["id"])
    assert prompted["trigger_type"] == "signal" and prompted["trigger"]["pool_id"] == pool["id"]
    assert prompted["trigger"]["binding_id"] == prompt_binding["id"]
    fired = {s["name"]: s for s in prompted["trigger"]["values"]["signals"]}
    assert fired["RSI oversold"]["value"] < 30
    assert fired["Price over EMA 50"]["value"] > fired["Price over EMA 50"]["threshold_value"]
    # The binding's own template ran, and it shows the model why it runs.
    assert prompted["rendered_prompt"].startswith("Binding prompt for BTC, ETH")
    assert "Price over EMA 50" in prompted["rendered_prompt"]

    [programmed] = await decisions(api, token, by_program["id"])
    assert programmed["status"] == "ok", programmed["error"]
    assert programmed["binding_id"] == program_binding["id"]
    assert programmed["strategy_type"] == "program"
    assert programmed["program_id"] == program["id"] and programmed["prompt_id"] is None
    assert programmed["model"] == f"program:{program['id']}:moody"
    # params_override merged over the program's params, key by key, before init().
    assert programmed["reasoning"] == "mood bold, size 3"
    assert json.loads(programmed["raw_output"])["logs"] == ["mood bold size 3"]
    seen = json.loads(programmed["rendered_prompt"])["trigger"]
    assert seen["type"] == "signal" and seen["values"]["symbols"] == ["BTC"]

    assert await decisions(api, token, switched_off["id"]) == []
    log = await api.client.get(
        f"/api/signals/pools/{pool['id']}/triggers", headers=api.bearer(token)
    )
    assert log.json()[0]["account_ids"] == [by_prompt["id"], by_program["id"]]


async def test_a_binding_whose_prompt_or_program_is_gone_records_why(api: Api) -> None:
    _, token = await api.user()
    h = api.bearer(token)
    trader = await quiet_trader(api, token, "orphaned bindings")
    prompt = await post(api, token, "/api/prompts/", {"name": "B", "content": BINDING_PROMPT})
    program = await post(api, token, "/api/programs/", {"name": "p", "code": PARAM_PROGRAM})
    by_prompt = await post(
        api, token, "/api/bindings", {"account_id": trader["id"], "prompt_id": prompt["id"]}
    )
    by_program = await post(
        api, token, "/api/bindings", {"account_id": trader["id"], "program_id": program["id"]}
    )
    # Deleting what a binding runs is allowed; the binding's cycles then record why they
    # could not decide (failed, counted like any failed cycle) instead of running another.
    for path in (f"/api/prompts/{prompt['id']}", f"/api/programs/{program['id']}"):
        assert (await api.client.delete(path, headers=h)).status_code == 200

    for binding, reason in ((by_prompt, "Prompt not found"), (by_program, "no longer exists")):
        response = await api.client.post(
            f"/api/account/{trader['id']}/trigger?binding_id={binding['id']}", headers=h
        )
        assert response.status_code == 200, response.text
        record = response.json()
        assert record["binding_id"] == binding["id"] and record["trigger_type"] == "manual"
        assert record["status"] == "failed" and reason in record["error"]
        assert record["decisions"] == [] and record["executed"] is False


async def test_only_the_traders_own_active_bindings_run_by_hand(api: Api) -> None:
    _, token = await api.user()
    _, intruder = await api.user()
    trader = await quiet_trader(api, token, "mine")
    other = await quiet_trader(api, token, "my other")
    theirs = await quiet_trader(api, intruder, "theirs")
    active = await post(api, token, "/api/bindings", {"account_id": trader["id"]})
    inactive = await post(
        api, token, "/api/bindings", {"account_id": trader["id"], "is_active": False}
    )
    others = await post(api, token, "/api/bindings", {"account_id": other["id"]})
    foreign = await post(api, intruder, "/api/bindings", {"account_id": theirs["id"]})

    async def run(account_id: int, binding_id: int, token: str) -> Any:
        return await api.client.post(
            f"/api/account/{account_id}/trigger?binding_id={binding_id}",
            headers=api.bearer(token),
        )

    ran = await run(trader["id"], active["id"], token)
    assert ran.status_code == 200 and ran.json()["binding_id"] == active["id"]
    assert ran.json()["status"] == "ok", ran.json()["error"]
    for binding_id in (inactive["id"], others["id"], foreign["id"], 2_000_000_000):
        assert_error(await run(trader["id"], binding_id, token), 404, "BINDING_NOT_FOUND")
    assert_error(await run(trader["id"], active["id"], intruder), 403, "FORBIDDEN")
    assert [r["binding_id"] for r in await decisions(api, token, trader["id"])] == [active["id"]]
