"""A backtest read never shows a completed job without its trades and curve.

The runner commits the results, then marks the job completed. A read that loaded the
backtest row and the job row in two statements could land between those commits and
answer "completed" with an empty trade list (seen once in CI). This test lands a whole
completion exactly after the read's first statement on the backtests table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, update
from sqlalchemy.orm import undefer
from sqlalchemy.util import await_only

from hyperoru.backtests.models import Backtest
from hyperoru.jobs.models import Job
from hyperoru.timeutils import utcnow
from tests.backtests.support import create_program, read, request_body, settled, submit
from tests.helpers import Api


async def test_a_read_racing_the_completion_sees_all_of_it_or_none(app: FastAPI, api: Api) -> None:
    user, token = await api.user()
    program_id = await create_program(api, token, params={"every": 4})
    job = await submit(api, token, request_body(program_id))
    finished = await settled(api, token, job["id"])
    assert finished["status"] == "completed" and finished["trades"]

    async with app.state.services.sessionmaker() as session:
        row = await session.get(Job, job["id"])
        stored = await session.get(
            Backtest, job["id"], options=[undefer(Backtest.trades), undefer(Backtest.equity_curve)]
        )
        assert row is not None and stored is not None
        completed_result = row.result
        # As the runner stored them (exact decimal strings), not as the API shows them.
        stored_trades, stored_curve = stored.trades, stored.equity_curve
        # Back to "running, no results yet" under a live lease, so the runner leaves it alone.
        await session.execute(
            update(Job)
            .where(Job.id == job["id"])
            .values(
                status="running",
                result=None,
                finished_at=None,
                lease_owner="another-worker",
                lease_expires_at=utcnow() + timedelta(minutes=10),
            )
        )
        await session.execute(
            update(Backtest).where(Backtest.id == job["id"]).values(trades=None, equity_curve=None)
        )
        await session.commit()
    # Written behind the app's back: tell it, as its own writers do, so the finished
    # answer it keeps in memory (backtests/finished_answers.py) is read again.
    await app.state.services.versions.bump(user["id"])

    async def complete() -> None:
        async with app.state.services.sessionmaker() as other:
            await other.execute(
                update(Backtest)
                .where(Backtest.id == job["id"])
                .values(trades=stored_trades, equity_curve=stored_curve)
            )
            await other.commit()
            await other.execute(
                update(Job)
                .where(Job.id == job["id"])
                .values(status="completed", result=completed_result, finished_at=utcnow())
            )
            await other.commit()

    fired: list[str] = []

    def after_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = statement.lower()
        if fired or not text.lstrip().startswith("select") or "backtests" not in text:
            return
        fired.append(statement)
        await_only(complete())

    engine = app.state.services.engine.sync_engine
    event.listen(engine, "after_cursor_execute", after_execute)
    try:
        seen = await read(api, token, job["id"])
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)

    assert fired, "the read never selected from the backtests table"
    if seen["status"] == "completed":
        assert seen["trades"] == finished["trades"]
        assert seen["equity_curve"] == finished["equity_curve"]
    else:
        assert seen["status"] == "running" and seen["trades"] == []
    # And once the completion is in, the next read has everything.
    after = await read(api, token, job["id"])
    assert after["status"] == "completed" and after["trades"] == finished["trades"]
