"""/api/klines/data, coverage and supported symbols on the sim provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hyperoru.market.intervals import floor_time
from tests.helpers import Api, assert_error


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_data_serves_ohlcv_and_stores_closed_candles(api: Api) -> None:
    _, token = await api.user()
    end = floor_time(datetime.now(UTC), "1h")
    start = end - timedelta(hours=24)
    params = {"symbol": "BTC", "interval": "1h", "start": iso(start), "end": iso(end)}
    first = await api.client.get("/api/klines/data", params=params, headers=api.bearer(token))
    assert first.status_code == 200, first.text
    candles = first.json()
    assert len(candles) == 24
    assert set(candles[0]) == {"timestamp", "open", "high", "low", "close", "volume"}
    assert candles[0]["timestamp"] == iso(start)
    assert candles[-1]["timestamp"] == iso(end - timedelta(hours=1))
    assert "x-klines-capped" not in first.headers

    coverage = await api.client.get("/api/klines/coverage", headers=api.bearer(token))
    assert coverage.json() == [
        {
            "symbol": "BTC",
            "interval": "1h",
            "earliest": iso(start),
            "latest": iso(end - timedelta(hours=1)),
            "total_candles": 24,
        }
    ]
    # The second read comes from storage and is identical.
    again = await api.client.get("/api/klines/data", params=params, headers=api.bearer(token))
    assert again.json() == candles


async def test_gap_in_storage_is_filled(api: Api) -> None:
    _, token = await api.user()
    end = floor_time(datetime.now(UTC), "1h") - timedelta(hours=48)
    inner = {"symbol": "ETH", "interval": "1h"}
    await api.client.get(
        "/api/klines/data",
        params={**inner, "start": iso(end - timedelta(hours=10)), "end": iso(end)},
        headers=api.bearer(token),
    )
    wide = await api.client.get(
        "/api/klines/data",
        params={**inner, "start": iso(end - timedelta(hours=30)), "end": iso(end)},
        headers=api.bearer(token),
    )
    assert len(wide.json()) == 30
    coverage = (await api.client.get("/api/klines/coverage", headers=api.bearer(token))).json()
    assert coverage[0]["total_candles"] == 30


async def test_latest_candles_include_the_forming_one_without_storing_it(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get(
        "/api/klines/data",
        params={"symbol": "SOL", "interval": "1h", "limit": 5},
        headers=api.bearer(token),
    )
    candles = response.json()
    assert len(candles) == 5
    assert candles[-1]["timestamp"] == iso(floor_time(datetime.now(UTC), "1h"))
    coverage = (await api.client.get("/api/klines/coverage", headers=api.bearer(token))).json()
    assert coverage[0]["total_candles"] == 4


async def test_huge_range_is_capped_and_says_so(api: Api) -> None:
    _, token = await api.user()
    start = floor_time(datetime.now(UTC), "1m") - timedelta(days=10)
    response = await api.client.get(
        "/api/klines/data",
        params={"symbol": "BTC", "interval": "1m", "start": iso(start), "limit": 1000},
        headers=api.bearer(token),
    )
    assert response.status_code == 200
    assert len(response.json()) == 1000
    assert response.headers["x-klines-capped"] == "true"
    assert response.headers["x-klines-limit"] == "1000"
    assert response.headers["x-klines-next-start"] == iso(start + timedelta(minutes=1000))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"symbol": "BTC", "interval": "7m"}, "interval"),
        ({"symbol": "BTC", "limit": 1001}, "limit"),
        ({"symbol": "BTC", "limit": 0}, "limit"),
        ({"symbol": "BTC", "start": "yesterday"}, "start"),
        ({"symbol": "BTC", "start": "-1"}, "start"),
        ({"symbol": "BTC", "end": "99999999999999999999"}, "end"),
        ({"symbol": "BTC", "start": "2026-03-02", "end": "2026-03-01"}, "start"),
        ({"interval": "1h"}, "symbol"),
    ],
)
async def test_bad_parameters_name_the_field(
    api: Api, params: dict[str, object], field: str
) -> None:
    _, token = await api.user()
    response = await api.client.get("/api/klines/data", params=params, headers=api.bearer(token))
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in [f["field"] for f in body["details"]["fields"]]


async def test_unknown_symbol_is_404(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get(
        "/api/klines/data", params={"symbol": "NOPE"}, headers=api.bearer(token)
    )
    assert_error(response, 404, "SYMBOL_NOT_FOUND")


async def test_supported_symbols(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get("/api/klines/supported-symbols", headers=api.bearer(token))
    assert response.status_code == 200
    assert {"BTC", "ETH", "SOL", "BNB", "DOGE", "XRP"} <= set(response.json()["symbols"])
