"""The price cache against a venue: stale prices when the feed fails, clean API errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hyperoru.settings import Settings
from tests.helpers import Api, assert_error
from tests.market.apps import ALWAYS, venue_app
from tests.market.fakes import FakeBinance, FakeHyperliquid, Fault
from tests.market.waiting import eventually


def _settings(make_settings: Callable[..., Settings], source: str, url: str) -> Settings:
    return make_settings(
        market_data=source,
        hyperliquid_base_url=url,
        binance_base_url=url,
        market_symbols="BTC,ETH",
        market_refresh_seconds=0.05,
        market_http_timeout_seconds=1.0,
    )


async def _market_health(client: httpx.AsyncClient) -> str:
    return (await client.get("/api/health")).json().get("market_data", "")


async def test_failing_feed_serves_last_price_as_stale_and_logs_once(
    make_settings: Callable[..., Settings],
    hyperliquid_fake: FakeHyperliquid,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hyperoru.market.prices")
    settings = _settings(make_settings, "hyperliquid", hyperliquid_fake.url)
    async with venue_app(settings) as (client, token):
        headers = Api.bearer(token)
        await eventually(lambda: _market_health(client), lambda s: s == "ok")
        fresh = (await client.get("/api/crypto/price/BTC", headers=headers)).json()
        assert fresh["price"] == 95000.0 and fresh["mark_price"] == 95000.5
        assert fresh["bid"] == 94999 and fresh["ask"] == 95001
        assert fresh["source"] == "hyperliquid" and fresh["stale"] is False

        hyperliquid_fake.fail_next(Fault("status", status=502), times=ALWAYS)
        await eventually(lambda: _market_health(client), lambda s: s == "stale")
        requests_before = len(hyperliquid_fake.requests)
        served = []
        for _ in range(5):
            stale = await client.get("/api/crypto/price/BTC", headers=headers)
            assert stale.status_code == 200
            served.append(stale.json())
        # The last good price, unchanged and flagged, whatever the refresher is doing.
        assert all(body == served[0] for body in served)
        assert {**served[0], "timestamp": None} == {**fresh, "stale": True, "timestamp": None}
        # The refresher keeps trying in the background.
        await eventually(lambda: _count(hyperliquid_fake), lambda n: n > requests_before + 3)
        health = (await client.get("/api/health")).json()
        assert health["status"] == "healthy" and health["market_data"] == "stale"

        hyperliquid_fake.reset()
        await eventually(lambda: _market_health(client), lambda s: s == "ok")
        again = (await client.get("/api/crypto/price/BTC", headers=headers)).json()
        assert again["stale"] is False

    messages = [r.getMessage() for r in caplog.records if r.name == "hyperoru.market.prices"]
    assert messages.count("market data refresh failed; serving the last prices as stale") == 1
    assert messages.count("market data refresh recovered") == 1


async def _count(fake: FakeHyperliquid) -> int:
    return len(fake.requests)


async def test_a_cached_price_never_waits_on_a_stalled_venue(
    make_settings: Callable[..., Settings], hyperliquid_fake: FakeHyperliquid
) -> None:
    settings = _settings(make_settings, "hyperliquid", hyperliquid_fake.url)
    async with venue_app(settings) as (client, token):
        await eventually(lambda: _market_health(client), lambda s: s == "ok")
        hyperliquid_fake.fail_next(Fault("stall", seconds=2.0), times=ALWAYS)
        # Going upstream now would end in a timeout and a 503; the cache answers instead.
        for symbol in ("BTC", "ETH"):
            response = await client.get(f"/api/crypto/price/{symbol}", headers=Api.bearer(token))
            assert response.status_code == 200, response.text


async def test_no_price_at_all_is_503_and_health_says_error(
    make_settings: Callable[..., Settings], binance_fake: FakeBinance
) -> None:
    binance_fake.fail_next(Fault("status", status=503), times=ALWAYS)
    settings = _settings(make_settings, "binance", binance_fake.url)
    async with venue_app(settings) as (client, token):
        response = await client.get("/api/crypto/price/BTC", headers=Api.bearer(token))
        assert_error(response, 503, "MARKET_DATA_UNAVAILABLE")
        klines = await client.get(
            "/api/klines/data", params={"symbol": "BTC"}, headers=Api.bearer(token)
        )
        assert_error(klines, 503, "MARKET_DATA_UNAVAILABLE")
        assert await _market_health(client) == "error"


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault("not_json"), 502, "UPSTREAM_ERROR"),
        (Fault("truncated"), 502, "UPSTREAM_ERROR"),
        (Fault("status", status=200, body={"odd": True}), 502, "UPSTREAM_ERROR"),
        (Fault("status", status=500), 503, "MARKET_DATA_UNAVAILABLE"),
        (
            Fault("status", status=429, headers={"Retry-After": "12"}),
            503,
            "MARKET_DATA_UNAVAILABLE",
        ),
    ],
)
async def test_upstream_faults_become_clean_api_errors(
    make_settings: Callable[..., Settings],
    binance_fake: FakeBinance,
    fault: Fault,
    status: int,
    code: str,
) -> None:
    # A slow refresher: the fault is meant for the klines request, not the price feed.
    settings = make_settings(
        market_data="binance", binance_base_url=binance_fake.url, market_refresh_seconds=600
    )
    async with venue_app(settings) as (client, token):
        await eventually(lambda: _market_health(client), lambda s: s == "ok")
        binance_fake.fail_next(fault)
        response = await client.get(
            "/api/klines/data",
            params={"symbol": "ETH", "interval": "1h", "limit": 10},
            headers=Api.bearer(token),
        )
        body: dict[str, Any] = assert_error(response, status, code)
        assert "Traceback" not in body["message"]
        if fault.status == 429:
            assert response.headers["retry-after"] == "12"
