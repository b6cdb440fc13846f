"""Backfills as documented: their own ids (the first is 1 whatever jobs ran before, so
``/api/klines/backfill/status/1`` is the first backfill), and an ``exchange`` this server
does not read answered with a clear error instead of running on the simulated market."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from hyperoru.jobs import service as jobs
from tests.db.migrations import migrate
from tests.helpers import Api, assert_error

REVISION = "0016_kline_backfills"
BODY = {"symbol": "BTC", "interval": "1d", "start_date": "2026-01-01", "end_date": "2026-01-05"}


async def _other_job(app: FastAPI, owner_id: int) -> int:
    """A job of another kind (as a backtest is), taking a number of the jobs table."""
    async with app.state.services.sessionmaker() as session:
        job = await jobs.create_job(
            session, kind="unrelated_job", owner_id=owner_id, params={}, max_attempts=1
        )
        await session.commit()
        return job.id


async def _backfill(api: Api, token: str, body: dict[str, Any] = BODY) -> dict[str, Any]:
    response = await api.client.post("/api/klines/backfill", json=body, headers=api.bearer(token))
    assert response.status_code == 202, response.text
    return response.json()


async def _status(api: Api, token: str, task_id: str) -> dict[str, Any]:
    response = await api.client.get(
        f"/api/klines/backfill/status/{task_id}", headers=api.bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_backfills_count_from_one_on_their_own(app: FastAPI, api: Api) -> None:
    user, token = await api.user()
    assert await _other_job(app, user["id"]) == 1
    assert await _other_job(app, user["id"]) == 2

    first = await _backfill(api, token)
    assert first["id"] == 1
    assert first["status_url"] == "/api/klines/backfill/status/1"
    assert (await _status(api, token, "1"))["symbol"] == "BTC"
    assert (await _status(api, token, "bf-1"))["id"] == 1

    second = await _backfill(api, token, {**BODY, "symbol": "ETH"})
    assert second["id"] == 2 and (await _status(api, token, "2"))["symbol"] == "ETH"
    listed = await api.client.get("/api/klines/backfill-tasks", headers=api.bearer(token))
    assert [(j["id"], j["symbol"]) for j in listed.json()] == [(2, "ETH"), (1, "BTC")]

    # Another user's backfill is theirs: Bob's first is 3 here, and 1 is Alice's.
    _, bob = await api.user()
    assert (await _backfill(api, bob))["id"] == 3
    foreign = await api.client.get("/api/klines/backfill/status/1", headers=api.bearer(bob))
    assert_error(foreign, 403, "FORBIDDEN")
    for missing in ("4", "0", "99999999999", "bf-", "²"):
        response = await api.client.get(
            f"/api/klines/backfill/status/{missing}", headers=api.bearer(token)
        )
        assert_error(response, 404, "JOB_NOT_FOUND")


@pytest.mark.parametrize(
    ("extra", "field", "requested"),
    [
        ({"exchange": "hyperliquid"}, "exchange", "hyperliquid"),
        ({"exchange": "Binance"}, "exchange", "binance"),
        ({"environment": "mainnet"}, "environment", "mainnet"),
    ],
)
async def test_another_source_than_this_servers_is_refused(
    api: Api, extra: dict[str, str], field: str, requested: str
) -> None:
    _, token = await api.user()
    # The generated reference's body, as a script written against it sends it.
    body = {"symbol": "BTC", "period": "1h", "start": "2026-01-01", "end": "2026-01-02", **extra}
    response = await api.client.post("/api/klines/backfill", json=body, headers=api.bearer(token))
    error = assert_error(response, 422, "MARKET_SOURCE_MISMATCH")
    assert error["details"] == {
        "field": field,
        "requested": requested,
        "exchange": "sim",
        "environment": "simulated",
    }
    assert "reads market data from sim" in error["message"]
    # Nothing was queued.
    listed = await api.client.get("/api/klines/backfill-tasks", headers=api.bearer(token))
    assert listed.json() == []
    ok = await _backfill(api, token, {**body, "exchange": "sim", "environment": "simulated"})
    assert ok["exchange"] == "sim"


async def test_backfills_made_before_the_migration_keep_their_number(
    app: FastAPI, api: Api
) -> None:
    user, token = await api.user()
    await _other_job(app, user["id"])
    await _backfill(api, token)  # job 2

    # Before this revision a backfill was numbered by its job: 2.
    await migrate(app, REVISION, "down")
    async with app.state.services.engine.connect() as connection:
        kinds = await connection.execute(text("SELECT id, kind FROM jobs ORDER BY id"))
        assert [tuple(row) for row in kinds] == [(1, "unrelated_job"), (2, "klines_backfill")]
    await migrate(app, REVISION, "up")

    kept = await _status(api, token, "2")
    assert kept["id"] == 2 and kept["symbol"] == "BTC"
    # The sequence goes on after the copied numbers, on both databases.
    assert (await _backfill(api, token))["id"] == 3
