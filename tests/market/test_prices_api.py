"""/api/crypto: prices from the cache, the symbol list, errors."""

from __future__ import annotations

import pytest

from tests.helpers import Api, assert_error
from tests.market.waiting import eventually

PRICE_FIELDS = {"symbol", "price", "bid", "ask", "mark_price", "timestamp", "source", "stale"}


@pytest.mark.parametrize("path", ["/api/crypto/price?symbol=BTC", "/api/crypto/price/BTC"])
async def test_price_answers_the_documented_shape(api: Api, path: str) -> None:
    _, token = await api.user()
    response = await api.client.get(path, headers=api.bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PRICE_FIELDS
    assert body["symbol"] == "BTC" and body["source"] == "sim" and body["stale"] is False
    assert body["bid"] < body["price"] < body["ask"]
    assert body["mark_price"] > 0
    assert body["timestamp"].endswith("Z")


async def test_symbol_is_case_insensitive(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get("/api/crypto/price/eth", headers=api.bearer(token))
    assert response.status_code == 200 and response.json()["symbol"] == "ETH"


async def test_prices_map(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get(
        "/api/crypto/prices", params={"symbols": "BTC, eth,SOL"}, headers=api.bearer(token)
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"BTC", "ETH", "SOL"}
    assert all(set(v) == PRICE_FIELDS for v in body.values())
    everything = await api.client.get("/api/crypto/prices", headers=api.bearer(token))
    assert {"BTC", "ETH", "SOL", "BNB", "DOGE", "XRP"} <= set(everything.json())


async def test_unknown_symbols_are_404(api: Api) -> None:
    _, token = await api.user()
    single = await api.client.get("/api/crypto/price/NOPE", headers=api.bearer(token))
    assert_error(single, 404, "SYMBOL_NOT_FOUND")
    several = await api.client.get(
        "/api/crypto/prices", params={"symbols": "BTC,NOPE"}, headers=api.bearer(token)
    )
    body = assert_error(several, 404, "SYMBOL_NOT_FOUND")
    assert body["details"]["symbols"] == ["NOPE"]
    missing = await api.client.get("/api/crypto/price", headers=api.bearer(token))
    body = assert_error(missing, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "symbol"


async def test_symbols_list_carries_meta(api: Api) -> None:
    _, token = await api.user()
    response = await api.client.get("/api/crypto/symbols", headers=api.bearer(token))
    assert response.status_code == 200
    assets = {a["symbol"]: a for a in response.json()}
    assert {"BTC", "ETH", "SOL", "BNB", "DOGE", "XRP"} <= set(assets)
    assert assets["BTC"] == {
        "symbol": "BTC",
        "sz_decimals": 5,
        "max_leverage": 40,
        "min_notional": 10,
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/crypto/price/BTC",
        "/api/crypto/prices",
        "/api/crypto/symbols",
        "/api/klines/data?symbol=BTC",
        "/api/klines/coverage",
        "/api/klines/supported-symbols",
        "/api/klines/backfill-tasks",
        "/api/klines/backfill/status/1",
    ],
)
async def test_market_routes_need_a_token(api: Api, path: str) -> None:
    assert_error(await api.client.get(path), 401, "AUTH_REQUIRED")


async def test_health_reports_market_data_ok(api: Api) -> None:
    async def health() -> dict:
        return (await api.client.get("/api/health")).json()

    body = await eventually(health, lambda b: b.get("market_data") == "ok")
    assert body["status"] == "healthy"
