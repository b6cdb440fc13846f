"""Cancelling a running backtest, deleting a finished one, and what a failing model does
to a snapshot and to the task."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from hyperoru.prompt_backtests.runner import MAX_CONSECUTIVE_FAILURES
from tests.helpers import Api, assert_error
from tests.prompt_backtests.helpers import (
    SNAPSHOTS,
    llm_trader,
    own_prompt,
    snapshots,
    submit,
    wait_finished,
)
from tests.strategies.fake_llm import HOLD, FakeLlm, Reply, completion


async def _wait_for_snapshots(api: Api, token: str, task_id: int, count: int) -> dict:
    async with asyncio.timeout(30):
        while True:
            task = (
                await api.client.get(f"/api/prompt-backtests/{task_id}", headers=api.bearer(token))
            ).json()
            if task["snapshots_done"] >= count:
                return task
            await asyncio.sleep(0.02)


async def test_cancel_stops_a_running_backtest(world: tuple[FastAPI, Api], llm: FakeLlm) -> None:
    _, api = world
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    llm.queue(*[Reply(body=HOLD, delay=0.2) for _ in range(SNAPSHOTS)])
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    running = await _wait_for_snapshots(api, token, task["id"], 2)
    assert running["status"] == "running" and 0 < running["progress"] < 100

    cancelled = await api.client.delete(
        f"/api/prompt-backtests/{task['id']}", headers=api.bearer(token)
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    asked = len(llm.requests)
    await asyncio.sleep(0.6)  # three more replies' worth: none is asked for
    assert len(llm.requests) == asked < SNAPSHOTS
    after = await wait_finished(api, token, task["id"])
    assert after["status"] == "cancelled" and after["snapshots_done"] < SNAPSHOTS
    assert after["fingerprint"] is None
    # What was decided before the cancel stays readable; a second DELETE removes it.
    assert len(await snapshots(api, token, task["id"])) == after["snapshots_done"]
    deleted = await api.client.delete(
        f"/api/prompt-backtests/{task['id']}", headers=api.bearer(token)
    )
    assert deleted.status_code == 204
    gone = await api.client.get(f"/api/prompt-backtests/{task['id']}", headers=api.bearer(token))
    assert_error(gone, 404, "PROMPT_BACKTEST_NOT_FOUND")


async def test_a_failed_snapshot_trades_nothing_and_the_run_goes_on(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    _, api = world
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    llm.queue(
        Reply(status=500, body={"error": {"message": "overloaded"}}),
        Reply(body=completion("I think BTC goes up")),
    )
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    done = await wait_finished(api, token, task["id"])
    assert done["status"] == "completed", done
    assert done["failed_snapshots"] == 2 and done["calls"] == SNAPSHOTS
    first, second, *rest = await snapshots(api, token, task["id"])
    assert first["status"] == "failed" and first["error"].startswith("model call failed")
    assert first["raw_output"] is None and first["outcomes"] == []
    assert second["status"] == "failed" and second["error"].startswith("unusable model answer")
    assert second["raw_output"] == "I think BTC goes up"
    assert all(s["status"] == "ok" for s in rest)

    # An unusable answer is what the model said: a rerun replays it from the cache, but a
    # call that got no answer is asked again.
    rerun = await wait_finished(
        api, token, (await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"]))["id"]
    )
    assert (rerun["calls"], rerun["cached_calls"]) == (1, SNAPSHOTS - 1)
    assert rerun["failed_snapshots"] == 1 and rerun["fingerprint"] == done["fingerprint"]


async def test_consecutive_failures_fail_the_task(world: tuple[FastAPI, Api], llm: FakeLlm) -> None:
    _, api = world
    _, token = await api.user()
    trader = await llm_trader(api, token, llm)
    prompt = await own_prompt(api, token)
    llm.queue(*[Reply(status=503, body={"error": "down"}) for _ in range(SNAPSHOTS)])
    task = await submit(api, token, trader_id=trader["id"], prompt_id=prompt["id"])
    done = await wait_finished(api, token, task["id"])
    assert done["status"] == "failed", done
    assert f"{MAX_CONSECUTIVE_FAILURES} snapshots in a row failed" in done["error"]
    assert done["calls"] == MAX_CONSECUTIVE_FAILURES == len(llm.requests)
    assert done["failed_snapshots"] == MAX_CONSECUTIVE_FAILURES
