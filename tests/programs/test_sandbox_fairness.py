"""One user flooding the sandbox with programs that spin for ever does not stall another
user: the other's test run is answered while the flood is still queued, and their
program trader's cycles, which wait behind the flood for a slot, are never failed or
paused for it. Budgets answer 429 with ``Retry-After`` once spent.

Short limits (seconds of CPU) keep it quick; what is asserted is outcomes and order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from hyperoru.accounts.models import Account
from hyperoru.app import create_app
from hyperoru.programs.sandbox.fair_queue import Kind
from hyperoru.runtime.models import TraderRuntime
from hyperoru.runtime.scheduler import run_counted
from hyperoru.settings import Settings
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.trigger import Trigger
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.backtests.support import create_program, read, request_body, submit
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.market.waiting import eventually
from tests.programs.programs import strategy

SPIN = strategy("while True:\n    pass")
HOLD = strategy("return Decision('hold', 'BTC', reasoning='patience')")
# Beyond a cycle's limit below: a cycle that waits a whole test run of the flood for its
# slot would have timed out if the wait counted.
FLOOD_RUN_CPU_SECONDS = 4
CYCLE_LIMIT_SECONDS = 3.0


async def _test_run(api: Api, token: str, program_id: int) -> httpx.Response:
    return await api.client.post(
        "/api/programs/test-run", json={"program_id": program_id}, headers=api.bearer(token)
    )


async def test_a_flood_of_spinning_programs_never_stalls_another_user(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        sandbox_slots=2,  # backtests hold at most one, each user one per class
        sandbox_run_cpu_seconds=FLOOD_RUN_CPU_SECONDS,
        sandbox_run_wall_seconds=20,
        backtest_cpu_seconds=5,
        backtest_wall_seconds=20,
        sandbox_user_test_runs=2,
    )
    app = create_app(settings)
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        fair = app.state.services.sandbox.fair
        flooder, flooder_token = await api.user()
        _, other_token = await api.user()
        spin = await create_program(api, flooder_token, code=SPIN)
        hold = await create_program(api, other_token, code=HOLD)
        trader = await create_trader(api, other_token, account_type="program")
        response = await client.put(
            f"/api/account/{trader['id']}/strategy",
            json={"symbols": ["BTC"], "program_id": hold},
            headers=api.bearer(other_token),
        )
        assert response.status_code == 200, response.text

        # The flood: spinning backtests and as many spinning test runs as one user may.
        backtests = [(await submit(api, flooder_token, request_body(spin)))["id"] for _ in range(2)]
        flood_runs = [asyncio.create_task(_test_run(api, flooder_token, spin)) for _ in range(2)]

        async def flooder_pending() -> int:
            return fair.queue.pending(flooder["id"], Kind.TEST_RUN)

        await eventually(flooder_pending, lambda n: n == 2, attempts=600)
        refused = await _test_run(api, flooder_token, spin)
        body = assert_error(refused, 429, "TOO_MANY_SANDBOX_RUNS")
        assert body["details"]["limit"] == 2 and int(refused.headers["retry-after"]) > 0

        async def busy_slots() -> int:
            return fair.queue.schedule.running

        await eventually(busy_slots, lambda n: n == 2, attempts=1200)  # both cores spin

        # Now the other user: a trader's cycles and a test run, behind a full sandbox.
        pipeline = app.state.pipeline
        sessions = app.state.services.sessionmaker
        mine = asyncio.create_task(_test_run(api, other_token, hold))
        paused = []
        for _ in range(3):
            trigger = Trigger(kind="scheduled", at=utcnow())
            counted = await run_counted(
                sessions,
                pipeline.run_cycle,
                trader["id"],
                trigger,
                limit_seconds=CYCLE_LIMIT_SECONDS,
            )
            paused.append(counted.paused)
        answer = await mine
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ok", answer.json()
        assert answer.json()["result"]["decisions"][0]["operation"] == "hold"
        # Answered while the flood is still there: not after the flooder's backlog.
        statuses = [(await read(api, flooder_token, b))["status"] for b in backtests]
        assert "queued" in statuses or "running" in statuses, statuses

        assert paused == [False, False, False]
        async with sessions() as session:
            account = await session.get(Account, trader["id"])
            runtime = await session.get(TraderRuntime, trader["id"])
            records = (
                await session.scalars(
                    select(DecisionRecord).where(DecisionRecord.account_id == trader["id"])
                )
            ).all()
        assert account is not None and account.status == "active"
        assert runtime is not None and runtime.consecutive_failures == 0
        assert [r.status for r in records] == ["ok", "ok", "ok"], [r.error for r in records]

        for flood_run in flood_runs:  # the flooder's own runs end at their limits
            outcome = (await flood_run).json()
            assert outcome["status"] in ("error", "timeout") and outcome["result"] is None
        for backtest in backtests:
            await client.delete(f"/api/backtests/{backtest}", headers=api.bearer(flooder_token))


async def test_a_spent_budget_answers_429_with_retry_after_for_that_user_only(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        sandbox_cpu_budget_seconds=1,
        sandbox_budget_window_seconds=3600,
        sandbox_run_cpu_seconds=1,
    )
    app = create_app(settings)
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, spender = await api.user()
        _, other = await api.user()
        spin = await create_program(api, spender, code=SPIN)
        spent = await _test_run(api, spender, spin)
        assert spent.json()["status"] == "error"  # ran its whole CPU second: budget gone

        refused = await _test_run(api, spender, spin)
        body: dict[str, Any] = assert_error(refused, 429, "SANDBOX_BUDGET_SPENT")
        retry_after = int(refused.headers["retry-after"])
        # Charged at most its hard CPU limit (2 s), so it is overdrawn by at most 1 s.
        assert 0 < retry_after <= 3601 and body["details"]["retry_after"] == retry_after
        assert body["details"]["budget_seconds"] == 1

        queued = await client.post(
            "/api/backtests", json=request_body(spin), headers=api.bearer(spender)
        )
        assert_error(queued, 429, "SANDBOX_BUDGET_SPENT")
        listed = await client.get("/api/backtests", headers=api.bearer(spender))
        assert listed.json() == []  # nothing was stored

        hold = await create_program(api, other, code=HOLD)
        theirs = await _test_run(api, other, hold)
        assert theirs.status_code == 200 and theirs.json()["status"] == "ok", theirs.text
