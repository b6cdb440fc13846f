"""Program backtests as jobs: 202 → running → completed with metrics and a fingerprint
that reruns reproduce; progress, cancel (the sandbox process dies), delete, failures,
the per-user cap, and a rerun after the worker died."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import update

from hyperoru.app import create_app
from hyperoru.jobs.models import Job
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from tests.backtests.support import (
    FAILING,
    SLOW,
    caught_running,
    create_program,
    live_sandboxes,
    read,
    request_body,
    sandbox_children,
    settled,
    submit,
)
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.market.waiting import eventually

METRICS = (
    "total_pnl",
    "total_pnl_percent",
    "total_trades",
    "win_rate",
    "profit_factor",
    "sharpe_ratio",
    "max_drawdown_pct",
    "final_equity",
)


async def test_a_backtest_runs_to_completion_and_reruns_identically(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token, params={"every": 4})
    queued = await submit(api, token, request_body(program_id, initial_balance=5000))
    assert queued["status"] in ("queued", "running")
    assert queued["backtest"]["id"] == queued["id"] and queued["backtest"]["total_pnl"] is None
    assert queued["metrics"] == {} and queued["trades"] == [] and queued["fingerprint"] is None
    assert queued["config"]["interval"] == "1h" and queued["config"]["candles_per_symbol"] == 72
    assert queued["config"]["taker_fee_pct"] == 0.045 and queued["config"]["slippage_pct"] == 0.05

    done = await settled(api, token, queued["id"])
    assert done["status"] == "completed", done
    assert done["progress"] == done["progress_pct"] == 100.0 and done["error"] is None
    assert done["started_at"].endswith("Z") and done["finished_at"].endswith("Z")
    for name in METRICS:
        assert name in done and name in done["metrics"], name
    assert done["total_trades"] > 0 and done["trades"]
    assert re.fullmatch(r"[0-9a-f]{64}", done["fingerprint"])
    assert done["equity_curve"] and done["equity_curve"][0]["timestamp"].endswith("Z")
    assert done["backtest"]["status"] == "completed"
    assert done["backtest"]["total_trades"] == done["total_trades"]
    assert done["backtest"]["total_pnl"] == done["total_pnl"]

    # Editing the program does not change what the submitted job ran, and a new run of
    # the same inputs (through the documented alias) gives the same trades.
    await api.client.put(
        f"/api/programs/{program_id}", json={"params": {"every": 9}}, headers=api.bearer(token)
    )
    again = await submit(
        api,
        token,
        request_body(program_id, initial_balance=5000, params={"every": 4}),
        path="/api/programs/backtest",
    )
    rerun = await settled(api, token, again["id"])
    assert rerun["status"] == "completed", rerun
    assert rerun["fingerprint"] == done["fingerprint"]
    assert rerun["trades"] == done["trades"]
    assert rerun["code_sha256"] == done["code_sha256"]
    other = await submit(api, token, request_body(program_id, initial_balance=5000))
    different = await settled(api, token, other["id"])
    assert different["fingerprint"] != done["fingerprint"]  # stored params: every 9 bars


async def test_a_running_backtest_reports_progress_and_can_be_cancelled(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token, code=SLOW)
    body = request_body(program_id, start_date="2026-01-01", end_date="2026-01-15")
    job = await submit(api, token, body)
    running = await eventually(lambda: read(api, token, job["id"]), caught_running, attempts=1200)
    assert running["status"] == "running" and 10 < running["progress"] < 100, running
    assert sandbox_children()

    cancelled = await api.client.delete(f"/api/backtests/{job['id']}", headers=api.bearer(token))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    await eventually(live_sandboxes, lambda pids: pids == [])
    after = await read(api, token, job["id"])
    assert after["status"] == "cancelled" and after["fingerprint"] is None
    assert after["finished_at"] is not None

    # A second delete removes the cancelled backtest.
    gone = await api.client.delete(f"/api/backtests/{job['id']}", headers=api.bearer(token))
    assert gone.status_code == 204
    missing = await api.client.get(f"/api/backtests/{job['id']}", headers=api.bearer(token))
    assert_error(missing, 404, "BACKTEST_NOT_FOUND")


async def test_a_finished_backtest_is_deleted(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token)
    job = await submit(api, token, request_body(program_id))
    assert (await settled(api, token, job["id"]))["status"] == "completed"
    deleted = await api.client.delete(f"/api/backtests/{job['id']}", headers=api.bearer(token))
    assert deleted.status_code == 204 and deleted.content == b""
    missing = await api.client.get(f"/api/backtests/{job['id']}", headers=api.bearer(token))
    assert_error(missing, 404, "BACKTEST_NOT_FOUND")
    assert (await api.client.get("/api/backtests", headers=api.bearer(token))).json() == []


async def test_a_failing_program_fails_the_backtest_with_its_error(api: Api) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token, code=FAILING)
    job = await submit(api, token, request_body(program_id))
    done = await settled(api, token, job["id"])
    assert done["status"] == "failed", done
    assert "the fourth bar is cursed" in done["error"]
    assert "line 9" in done["error"]
    assert done["fingerprint"] is None and done["trades"] == []
    assert done["attempts"] == 1  # a program's own error is not retried


async def test_active_backtests_per_user_are_capped(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(backtest_max_active_per_user=1))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        slow = await create_program(api, token, code=SLOW)
        body = request_body(slow, start_date="2026-01-01", end_date="2026-01-15")
        first = await submit(api, token, body)
        refused = await client.post("/api/backtests", json=body, headers=api.bearer(token))
        details = assert_error(refused, 429, "TOO_MANY_BACKTESTS")["details"]
        assert details == {"limit": 1, "active": 1}
        # Another user has room of their own; cancelling frees the place.
        _, other = await api.user()
        other_program = await create_program(api, other)
        await submit(api, other, request_body(other_program))
        await client.delete(f"/api/backtests/{first['id']}", headers=api.bearer(token))
        quick = await create_program(api, token)
        await submit(api, token, request_body(quick))
        # The cancelled run's process is gone, and the quick ones finish by themselves.
        await eventually(live_sandboxes, lambda pids: pids == [], attempts=1200)


async def test_simultaneous_submissions_never_pass_the_cap(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(backtest_max_active_per_user=2))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        slow = await create_program(api, token, code=SLOW)
        body = request_body(slow, start_date="2026-01-01", end_date="2026-01-15")
        responses = await asyncio.gather(
            *(client.post("/api/backtests", json=body, headers=api.bearer(token)) for _ in range(6))
        )
        assert sorted(r.status_code for r in responses) == [202] * 2 + [429] * 4
        for response in responses:
            if response.status_code == 429:
                assert_error(response, 429, "TOO_MANY_BACKTESTS")
            else:
                await client.delete(
                    f"/api/backtests/{response.json()['id']}", headers=api.bearer(token)
                )
        await eventually(live_sandboxes, lambda pids: pids == [], attempts=1200)


async def test_a_backtest_whose_worker_died_runs_again_to_the_same_result(
    app: FastAPI, api: Api
) -> None:
    _, token = await api.user()
    program_id = await create_program(api, token)
    job = await submit(api, token, request_body(program_id))
    first = await settled(api, token, job["id"])
    assert first["status"] == "completed"
    # What a killed worker leaves behind: the job running under a lease that ran out.
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job["id"])
            .values(
                status="running",
                progress_pct=40.0,
                result=None,
                lease_owner="dead-worker",
                lease_expires_at=utcnow() - timedelta(seconds=5),
                finished_at=None,
            )
        )
        await session.commit()
    app.state.services.jobs.wake()
    again = await eventually(
        lambda: read(api, token, job["id"]),
        lambda b: b["status"] == "completed" and b["attempts"] == 2,
        attempts=1200,
    )
    assert again["fingerprint"] == first["fingerprint"]
    assert again["trades"] == first["trades"]
    assert again["equity_curve"] == first["equity_curve"]


SIGNAL_READER = """
class Strategy:
    def should_trade(self, data):
        change = data.get_indicator("BTC", "price_change_pct", 1)
        data.log(data.now, data.trigger_type, data.trigger["signal_pool_id"], change)
        return Decision("hold")
"""


async def test_signal_pools_replayed_in_a_backtest_start_its_decisions(api: Api) -> None:
    _, token = await api.user()
    auth = api.bearer(token)
    definition = await api.client.post(
        "/api/signals/definitions",
        json={
            "name": "up bar",
            "type": "threshold",
            "config": {
                "indicator": "price_change_pct",
                "period": 1,
                "operator": ">",
                "threshold": 0,
            },
        },
        headers=auth,
    )
    assert definition.status_code == 201, definition.text
    pool = await api.client.post(
        "/api/signals/pools",
        json={"name": "ups", "signal_ids": [definition.json()["id"]], "symbols": ["BTC"]},
        headers=auth,
    )
    assert pool.status_code == 201, pool.text
    pool_id = pool.json()["id"]
    program_id = await create_program(api, token, code=SIGNAL_READER)

    every_bar = await settled(
        api, token, (await submit(api, token, request_body(program_id)))["id"]
    )
    by_signal = await settled(
        api,
        token,
        (await submit(api, token, request_body(program_id, signal_pool_ids=[pool_id])))["id"],
    )
    assert every_bar["status"] == by_signal["status"] == "completed", by_signal
    assert by_signal["config"]["trigger_interval"] is None
    (frozen,) = by_signal["config"]["signal_pools"]
    assert frozen["pool_id"] == pool_id and frozen["signals"][0]["name"] == "up bar"

    # The schedule saw every bar's change; the pool must fire exactly where it turned
    # positive (edge-triggered). The backtest's own series starts at its first bar while
    # the pool also reads candles before it, so the first two bars are left out.
    changes = [(line.split()[0], line.split()[3]) for line in every_bar["logs"]]
    assert len(changes) == 72
    values = [None if v == "None" else float(v) for _, v in changes]
    expected = [
        changes[i][0]
        for i in range(2, len(changes))
        if values[i] is not None and values[i] > 0 and values[i - 1] <= 0
    ]
    assert len(expected) >= 5
    fired = [line.split() for line in by_signal["logs"]]
    assert [f[0] for f in fired if f[0] > changes[1][0]] == expected
    assert {(f[1], f[2]) for f in fired} == {("signal", str(pool_id))}
