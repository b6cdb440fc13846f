"""A finished backtest's answer is served from memory, and never outlives the backtest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from hyperoru.app import create_app, replace_services
from hyperoru.backtests.finished_answers import DEFAULT_TTL_SECONDS, FinishedAnswers
from hyperoru.settings import Settings
from tests.backtests.support import FAILING, create_program, request_body, settled, submit
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error


class Ticks:
    """The answers' clock, moved by the test only."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frozen_answers(app: FastAPI) -> Ticks:
    ticks = Ticks()
    versions = app.state.services.versions
    replace_services(app, backtest_answers=FinishedAnswers(versions, clock=ticks))
    return ticks


@contextmanager
def backtest_reads(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements that read backtests while the block runs (the job runner's own
    polling of the jobs table runs meanwhile and is not counted)."""
    seen: list[str] = []
    engine = app.state.services.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "program_backtests" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_finished_backtest_is_answered_without_the_database(app: FastAPI, api: Api) -> None:
    ticks = frozen_answers(app)
    user, token = await api.user()
    program_id = await create_program(api, token)
    job = await submit(api, token, request_body(program_id))
    done = await settled(api, token, job["id"])
    assert done["status"] == "completed" and done["trades"], done
    path = f"/api/backtests/{job['id']}"

    # Any change of the owner's data drops what was kept (the poll above kept it).
    await app.state.services.versions.bump(user["id"])
    with backtest_reads(app) as reads:
        first = await api.client.get(path, headers=api.bearer(token))
        again = await api.client.get(path, headers=api.bearer(token))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.json() == done
    assert len(reads) == 1, reads  # the second answer came from memory

    # Nothing is kept longer than the time to live, even when nothing was bumped.
    with backtest_reads(app) as reads:
        ticks.now += DEFAULT_TTL_SECONDS
        await api.client.get(path, headers=api.bearer(token))  # still kept
        ticks.now += 0.001
        await api.client.get(path, headers=api.bearer(token))  # read again
        await api.client.get(path, headers=api.bearer(token))  # and kept again
    assert len(reads) == 1, reads

    # Each set of parts is its own answer: a light poll never gets the heavy one.
    light = await api.client.get(f"{path}?include=none", headers=api.bearer(token))
    assert "trades" not in light.json() and "equity_curve" not in light.json()
    assert light.json()["metrics"] == done["metrics"]


async def test_a_failed_backtest_is_kept_and_a_running_one_is_not(app: FastAPI, api: Api) -> None:
    frozen_answers(app)
    user, token = await api.user()
    failing = await create_program(api, token, code=FAILING)
    job = await submit(api, token, request_body(failing))
    assert (await settled(api, token, job["id"]))["status"] == "failed"
    await app.state.services.versions.bump(user["id"])
    with backtest_reads(app) as reads:
        for _ in range(3):
            answer = await api.client.get(f"/api/backtests/{job['id']}", headers=api.bearer(token))
            assert answer.json()["error"]
    assert len(reads) == 1

    answers = app.state.services.backtest_answers
    version = await answers.version(1)
    for status in ("queued", "running", "cancelled"):
        answers.keep(
            owner_id=1,
            version=version,
            backtest_id=999,
            parts=frozenset(),
            status=status,
            body=b"{}",
        )
        assert await answers.get(user_id=1, backtest_id=999, parts=frozenset()) is None


async def test_the_owner_is_checked_on_every_answer(api: Api) -> None:
    _, token = await api.user()
    _, intruder = await api.user()
    program_id = await create_program(api, token)
    job = await submit(api, token, request_body(program_id))
    await settled(api, token, job["id"])
    path = f"/api/backtests/{job['id']}"
    assert (await api.client.get(path, headers=api.bearer(token))).status_code == 200
    assert_error(await api.client.get(path, headers=api.bearer(intruder)), 403, "FORBIDDEN")


async def test_a_deleted_backtest_is_gone_in_every_process(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    # Two apps on one database and one Redis stand in for two server processes.
    settings = make_settings(redis_url=redis_url)
    async with AsyncExitStack() as stack:
        apps = [create_app(settings), create_app(settings)]
        for app in apps:
            await stack.enter_async_context(running(app))
        one, other = [Api(await stack.enter_async_context(asgi_client(app))) for app in apps]
        _, token = await one.user()
        program_id = await create_program(one, token)
        job = await submit(one, token, request_body(program_id))
        await settled(one, token, job["id"])
        path = f"/api/backtests/{job['id']}"
        for api in (one, other, other):  # both processes now hold the answer
            assert (await api.client.get(path, headers=api.bearer(token))).status_code == 200

        deleted = await one.client.delete(path, headers=one.bearer(token))
        assert deleted.status_code == 204
        for api in (other, one):
            gone = await api.client.get(path, headers=api.bearer(token))
            assert_error(gone, 404, "BACKTEST_NOT_FOUND")
