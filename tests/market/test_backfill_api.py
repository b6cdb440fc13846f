"""POST /api/klines/backfill → 202 job; status, list, ownership, budget, validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hyperoru.app import create_app
from hyperoru.market.intervals import count_between, floor_time
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.market.waiting import eventually

JOB_FIELDS = {
    "id",
    "status",
    "symbol",
    "interval",
    "progress_pct",
    "rows_written",
    "started_at",
    "finished_at",
    "error",
}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _finished(api: Api, token: str, job_id: int) -> dict[str, Any]:
    async def status() -> dict[str, Any]:
        response = await api.client.get(
            f"/api/klines/backfill/status/{job_id}", headers=api.bearer(token)
        )
        assert response.status_code == 200, response.text
        return response.json()

    return await eventually(status, lambda job: job["status"] in ("completed", "failed"))


async def test_backfill_pages_through_history_and_stores_it(api: Api) -> None:
    _, token = await api.user()
    end = floor_time(datetime.now(UTC), "1m") - timedelta(hours=1)
    start = end - timedelta(minutes=3500)
    response = await api.client.post(
        "/api/klines/backfill",
        json={"symbol": "btc", "interval": "1m", "start_date": iso(start), "end_date": iso(end)},
        headers=api.bearer(token),
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert set(job) >= JOB_FIELDS
    assert job["status"] in ("queued", "running") and job["symbol"] == "BTC"
    assert response.headers["location"] == job["status_url"]
    assert job["status_url"] == f"/api/klines/backfill/status/{job['id']}"

    done = await _finished(api, token, job["id"])
    assert done["status"] == "completed", done
    assert done["progress_pct"] == 100.0 and done["error"] is None
    assert done["rows_written"] == 3500
    assert done["started_at"].endswith("Z") and done["finished_at"].endswith("Z")

    coverage = (await api.client.get("/api/klines/coverage", headers=api.bearer(token))).json()
    assert coverage == [
        {
            "symbol": "BTC",
            "interval": "1m",
            "earliest": iso(start),
            "latest": iso(end - timedelta(minutes=1)),
            "total_candles": 3500,
        }
    ]
    listed = await api.client.get("/api/klines/backfill-tasks", headers=api.bearer(token))
    assert [j["id"] for j in listed.json()] == [job["id"]]
    by_doc_id = await api.client.get(
        f"/api/klines/backfill/status/bf-{job['id']}", headers=api.bearer(token)
    )
    assert by_doc_id.json()["id"] == job["id"]


async def test_generated_body_variant_is_accepted(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.post(
        "/api/klines/backfill",
        json={
            "exchange": "sim",
            "environment": "simulated",
            "symbol": "ETH",
            "period": "4h",
            "start": "2026-01-01",
            "end": "2026-01-11",
        },
        headers=api.bearer(token),
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["interval"] == job["period"] == "4h"
    assert job["exchange"] == "sim" and job["environment"] == "simulated"
    assert job["start"] == "2026-01-01T00:00:00Z" and job["end"] == "2026-01-11T00:00:00Z"
    done = await _finished(api, token, job["id"])
    assert done["rows_written"] == 60


async def test_jobs_belong_to_their_owner(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    created = await api.client.post(
        "/api/klines/backfill",
        json={
            "symbol": "SOL",
            "interval": "1d",
            "start_date": "2026-01-01",
            "end_date": "2026-01-05",
        },
        headers=api.bearer(alice),
    )
    job_id = created.json()["id"]
    foreign = await api.client.get(f"/api/klines/backfill/status/{job_id}", headers=api.bearer(bob))
    assert_error(foreign, 403, "FORBIDDEN")
    assert (
        await api.client.get("/api/klines/backfill-tasks", headers=api.bearer(bob))
    ).json() == []
    for missing in (str(job_id + 1000), "abc", "bf-"):
        assert_error(
            await api.client.get(
                f"/api/klines/backfill/status/{missing}", headers=api.bearer(alice)
            ),
            404,
            "JOB_NOT_FOUND",
        )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"symbol": "BTC", "interval": "2h"}, 400, "VALIDATION_ERROR"),
        ({"symbol": "BTC", "interval": "1h", "period": "4h"}, 400, "VALIDATION_ERROR"),
        (
            {"symbol": "BTC", "start_date": "2026-02-02", "end_date": "2026-02-01"},
            400,
            "VALIDATION_ERROR",
        ),
        ({"symbol": "BTC", "interval": "1m", "start_date": "2020-01-01"}, 400, "VALIDATION_ERROR"),
        ({"symbol": "BTC", "exchange": "kraken"}, 400, "VALIDATION_ERROR"),
        ({"symbol": "BTC", "environment": "devnet"}, 400, "VALIDATION_ERROR"),
        ({"symbol": "NOPE"}, 404, "SYMBOL_NOT_FOUND"),
        ({"interval": "1h"}, 400, "VALIDATION_ERROR"),
    ],
)
async def test_bad_requests(api: Api, body: dict[str, str], status: int, code: str) -> None:
    _, token = await api.user()
    response = await api.client.post("/api/klines/backfill", json=body, headers=api.bearer(token))
    assert_error(response, status, code)


async def test_job_creation_spends_the_jobs_budget(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(rate_limit_jobs_per_minute=2))
    async with running(app), asgi_client(app) as client:
        api = Api(client)
        _, token = await api.user()
        body = {"symbol": "BTC", "interval": "1d", "start_date": "2026-01-01"}
        for remaining in ("1", "0"):
            ok = await client.post("/api/klines/backfill", json=body, headers=api.bearer(token))
            assert ok.status_code == 202
            assert ok.headers["x-ratelimit-remaining"] == remaining
        refused = await client.post("/api/klines/backfill", json=body, headers=api.bearer(token))
        assert_error(refused, 429, "RATE_LIMITED")
        assert "retry-after" in refused.headers
        # Another user has a budget of their own.
        _, other = await api.user()
        assert (
            await client.post("/api/klines/backfill", json=body, headers=api.bearer(other))
        ).status_code == 202


def test_default_window_is_thirty_days() -> None:
    end = floor_time(datetime.now(UTC), "1h")
    assert count_between(end - timedelta(days=30), end, "1h") == 720
