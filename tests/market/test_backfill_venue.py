"""Backfills against a venue fake: paging through its history, and giving up cleanly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hyperoru.market.intervals import floor_time
from hyperoru.settings import Settings
from tests.helpers import Api, assert_error
from tests.market.apps import ALWAYS, venue_app
from tests.market.fakes import FakeHyperliquid, Fault
from tests.market.waiting import eventually


def _settings(make_settings: Callable[..., Settings], url: str, **extra: Any) -> Settings:
    return make_settings(
        market_data="hyperliquid",
        hyperliquid_base_url=url,
        market_symbols="BTC",
        market_refresh_seconds=600,
        market_http_timeout_seconds=1.0,
        **extra,
    )


def _snapshot_calls(fake: FakeHyperliquid) -> list[dict[str, Any]]:
    return [
        body["req"]
        for _, _, body in list(fake.requests)
        if isinstance(body, dict) and body.get("type") == "candleSnapshot"
    ]


async def _finished(client: Any, token: str, job_id: int) -> dict[str, Any]:
    async def status() -> dict[str, Any]:
        response = await client.get(
            f"/api/klines/backfill/status/{job_id}", headers=Api.bearer(token)
        )
        return response.json()

    return await eventually(status, lambda job: job["status"] in ("completed", "failed"))


async def test_backfill_pages_through_the_venue(
    make_settings: Callable[..., Settings], hyperliquid_fake: FakeHyperliquid
) -> None:
    end = floor_time(datetime.now(UTC), "1h") - timedelta(hours=1)
    start = end - timedelta(hours=1200)
    async with venue_app(_settings(make_settings, hyperliquid_fake.url)) as (client, token):
        created = await client.post(
            "/api/klines/backfill",
            json={
                "exchange": "hyperliquid",
                "environment": "mainnet",
                "symbol": "BTC",
                "period": "1h",
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
            headers=Api.bearer(token),
        )
        assert created.status_code == 202, created.text
        assert created.json()["environment"] == "mainnet"
        done = await _finished(client, token, created.json()["id"])
        assert done["status"] == "completed" and done["rows_written"] == 1200
        # The venue answers 500 candles a page: three requests, each after the last.
        pages = _snapshot_calls(hyperliquid_fake)
        assert [p["startTime"] for p in pages] == [
            int((start + timedelta(hours=500 * i)).timestamp() * 1000) for i in range(3)
        ]
        coverage = (await client.get("/api/klines/coverage", headers=Api.bearer(token))).json()
        assert coverage[0]["total_candles"] == 1200

        wrong_venue = await client.post(
            "/api/klines/backfill",
            json={"exchange": "binance", "symbol": "BTC"},
            headers=Api.bearer(token),
        )
        body = assert_error(wrong_venue, 422, "MARKET_SOURCE_MISMATCH")
        assert body["details"] == {
            "field": "exchange",
            "requested": "binance",
            "exchange": "hyperliquid",
            "environment": "mainnet",
        }
        wrong_net = await client.post(
            "/api/klines/backfill",
            json={"environment": "testnet", "symbol": "BTC"},
            headers=Api.bearer(token),
        )
        body = assert_error(wrong_net, 422, "MARKET_SOURCE_MISMATCH")
        assert body["details"]["field"] == "environment"


async def test_backfill_gives_up_after_its_attempts(
    make_settings: Callable[..., Settings], hyperliquid_fake: FakeHyperliquid
) -> None:
    settings = _settings(make_settings, hyperliquid_fake.url, jobs_max_attempts=2)
    async with venue_app(settings) as (client, token):
        await eventually(lambda: _health(client), lambda body: body.get("market_data") == "ok")
        hyperliquid_fake.fail_next(Fault("status", status=503), times=ALWAYS)
        created = await client.post(
            "/api/klines/backfill",
            json={"symbol": "BTC", "interval": "1d", "start_date": "2026-01-01"},
            headers=Api.bearer(token),
        )
        assert created.status_code == 202
        done = await _finished(client, token, created.json()["id"])
        assert done["status"] == "failed" and done["attempts"] == 2
        assert done["error"] == "hyperliquid failed (HTTP 503)"
        assert done["finished_at"] is not None


async def _health(client: Any) -> dict[str, Any]:
    return (await client.get("/api/health")).json()
