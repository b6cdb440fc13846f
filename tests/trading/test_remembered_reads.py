"""Answers remembered per copy (``trading.read_model.remembered``): the trader list's body
and the asset curve's page. A write is on the next read, prices move the list's equity
without a write, and the token, the owner and the query are still checked on every
request (``http.query_model`` reads the query of these routes itself)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.helpers import Api, assert_error
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock


async def test_a_new_curve_point_in_the_same_bucket_shows_on_the_next_read(
    api: Api, app: FastAPI, clock: TestClock, market: ScriptedMarket
) -> None:
    trader = await new_trader(api, initial_capital=10000)
    await trader.trade(side="buy", quantity=0.1)  # at 50010, fee 2.25045
    cash = 10000 - 2.25045
    curve = f"/api/account/{trader.id}/asset-curve"
    clock.at(0)
    await tick(app)
    first = await trader.get(curve)
    assert [p["equity"] for p in first] == [pytest.approx(cash + 0.1 * (50000 - 50010))]
    assert await trader.get(curve) == first  # remembered: the same page again

    # Minute 3 is in the same 5-minute bucket, so the page's span is unchanged: only the
    # version the monitor's write bumped can tell the remembered page is old.
    clock.at(3)
    await market.set("BTC", 50500)
    await tick(app)
    second = await trader.get(curve)
    assert [p["timestamp"] for p in second] == [p["timestamp"] for p in first]
    assert [p["equity"] for p in second] == [pytest.approx(cash + 0.1 * (50500 - 50010))]

    # A new bucket is a new span, and other timeframes and windows are their own pages.
    clock.at(7)
    await tick(app)
    assert len(await trader.get(curve)) == 2
    assert len(await trader.get(curve, limit=1)) == 1
    assert len(await trader.get(curve, timeframe="1h")) == 1


async def test_a_trade_shows_on_the_next_curve_read(
    api: Api, app: FastAPI, clock: TestClock
) -> None:
    trader = await new_trader(api, initial_capital=10000)
    curve = f"/api/account/{trader.id}/asset-curve"
    assert await trader.get(curve) == []
    clock.at(0)
    await tick(app)
    assert await trader.get(curve) == []  # the monitor records traders with a ledger
    await trader.trade(side="buy", quantity=0.1)
    clock.at(1)
    await tick(app)
    assert len(await trader.get(curve)) == 1


async def test_the_list_shows_each_window_and_price_of_the_same_copy(
    api: Api, market: ScriptedMarket
) -> None:
    trader = await new_trader(api, name="first", initial_capital=10000)
    for name in ("second", "third"):
        created = await api.client.post(
            "/api/account/", json={"name": name}, headers=trader.headers
        )
        assert created.status_code == 201
    await trader.trade(side="buy", quantity=0.1)  # at 50010, fee 2.25045
    names = [a["name"] for a in await trader.get("/api/account/list")]
    assert names == ["first", "second", "third"]
    assert [a["name"] for a in await trader.get("/api/account/list", limit=1, offset=1)] == [
        "second"
    ]
    assert [a["name"] for a in await trader.get("/api/account/list", page=2, per_page=2)] == [
        "third"
    ]
    for mark in (51000, 49000, 51000):
        await market.set("BTC", mark)
        first = (await trader.get("/api/account/list"))[0]
        assert first["equity"] == pytest.approx(10000 - 2.25045 + 0.1 * (mark - 50010))


async def test_a_revoked_token_is_refused_on_the_next_remembered_read(api: Api) -> None:
    trader = await new_trader(api)
    paths = ("/api/account/list", f"/api/account/{trader.id}/asset-curve")
    for path in paths:
        await trader.get(path)  # warm
    logout = await api.client.post("/api/users/logout", headers=trader.headers)
    assert logout.status_code == 204
    for path in paths:
        assert_error(await api.client.get(path, headers=trader.headers), 401, "INVALID_TOKEN")
        assert_error(await api.client.get(path), 401, "AUTH_REQUIRED")


async def test_another_users_curve_is_refused_after_the_owner_read_it(api: Api) -> None:
    owner = await new_trader(api)
    await owner.get(f"/api/account/{owner.id}/asset-curve")
    intruder = await new_trader(api)
    refused = await api.client.get(f"/api/account/{owner.id}/asset-curve", headers=intruder.headers)
    assert_error(refused, 403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/account/list", {"limit": "0"}, "limit"),
        ("/api/account/list", {"limit": "abc"}, "limit"),
        ("/api/account/list", {"offset": "-1"}, "offset"),
        ("/api/account/list", {"per_page": "1001"}, "per_page"),
        ("/api/account/list", {"include_hidden": "maybe"}, "include_hidden"),
        ("/api/account/{id}/asset-curve", {"timeframe": "7m"}, "timeframe"),
        ("/api/account/{id}/asset-curve", {"page": "0"}, "page"),
    ],
)
async def test_a_bad_query_value_is_a_validation_error_naming_it(
    api: Api, path: str, params: dict[str, str], field: str
) -> None:
    trader = await new_trader(api)
    response = await api.client.get(
        path.format(id=trader.id), params=params, headers=trader.headers
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert [f["field"] for f in body["details"]["fields"]] == [field]


async def test_the_read_query_parameters_are_documented(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    listed = schema["paths"]["/api/account/list"]["get"]["parameters"]
    assert {p["name"] for p in listed if p["in"] == "query"} == {
        "limit", "offset", "page", "per_page", "include_hidden"
    }  # fmt: skip
    curve = schema["paths"]["/api/account/{account_id}/asset-curve"]["get"]["parameters"]
    by_name = {p["name"]: p for p in curve}
    assert by_name["account_id"]["in"] == "path"
    assert by_name["timeframe"]["schema"]["enum"] == ["5m", "1h", "1d", "7d"]
    assert by_name["limit"]["schema"]["maximum"] == 1000
