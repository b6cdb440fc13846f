"""Every analytics breakdown filtered to one trader (``?account_id=``, or the feature
page's ``?trader_id=``) and unfiltered, against totals worked by hand from known fills:
two traders of one user with their own fee rates, and a third trader of another user whose
trade must never count. Money is compared as exact Decimals (the answer's JSON numbers
read as Decimal). Another user's trader gets the summary's answer on every route."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts.helpers import create_trader
from tests.helpers import Api, assert_error
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

D = Decimal


@dataclass(frozen=True)
class Trip:
    """A round trip on a market that fills on the mark: open at ``entry``, close at
    ``exit``, taker fees on both fills. ``pnl`` and ``fees`` are worked out by hand."""

    trader: str
    symbol: str
    side: str  # the opening side: the trade's ``operation``
    quantity: str
    entry: int
    exit: int
    fees: Decimal
    pnl: Decimal


# Alpha pays 0.05% taker, Beta 0.1%, Gamma (another user) 0.05%.
TRIPS = (
    # 0.1 × (51000 − 50000) = 100; fees 2.5 + 2.55
    Trip("alpha", "BTC", "buy", "0.1", 50000, 51000, D("5.05"), D("94.95")),
    # 1 × (3000 − 3100) = −100; fees 1.5 + 1.55
    Trip("alpha", "ETH", "sell", "1", 3000, 3100, D("3.05"), D("-103.05")),
    # 0.2 × (51000 − 50500) = 100; fees 10.2 + 10.1
    Trip("beta", "BTC", "sell", "0.2", 51000, 50500, D("20.3"), D("79.70")),
    # 2 × (3200 − 3100) = 200; fees 6.2 + 6.4
    Trip("beta", "ETH", "buy", "2", 3100, 3200, D("12.6"), D("187.40")),
    # 1 × (52000 − 50500) = 1500; fees 25.25 + 26
    Trip("gamma", "BTC", "buy", "1", 50500, 52000, D("51.25"), D("1448.75")),
)
FEE_RATES = {"alpha": "0.0005", "beta": "0.001", "gamma": "0.0005"}


def exact(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


async def _trade(
    app: FastAPI, clock: TestClock, market: ScriptedMarket, t: Trader, trip: Trip, k: int
) -> None:
    clock.at(k * 60 + 10)
    await market.set(trip.symbol, trip.entry)
    await tick(app)
    await t.trade(symbol=trip.symbol, side=trip.side, quantity=trip.quantity)
    clock.at(k * 60 + 40)
    await market.set(trip.symbol, trip.exit)
    await tick(app)
    closing = "sell" if trip.side == "buy" else "buy"
    await t.trade(symbol=trip.symbol, side=closing, quantity=trip.quantity, reduce_only=True)


async def _world(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket
) -> dict[str, Trader]:
    alpha = await new_trader(
        api, name="Alpha", initial_capital=100000, taker_fee_rate=FEE_RATES["alpha"]
    )
    beta_account = await create_trader(
        api, alpha.token, name="Beta", initial_capital=100000, taker_fee_rate=FEE_RATES["beta"]
    )
    beta = Trader(api, alpha.token, beta_account, alpha.user)
    gamma = await new_trader(
        api, name="Gamma", initial_capital=100000, taker_fee_rate=FEE_RATES["gamma"]
    )
    traders = {"alpha": alpha, "beta": beta, "gamma": gamma}
    for k, trip in enumerate(TRIPS):
        await _trade(app, clock, market, traders[trip.trader], trip, k)
    clock.at(len(TRIPS) * 60)
    await tick(app)
    return traders


def _stats(trips: Iterable[Trip]) -> dict[str, Any]:
    """The trade statistics of a breakdown row, from the hand-worked trips."""
    pnls = [t.pnl for t in trips]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    return {
        "trades": len(pnls),
        "total_trades": len(pnls),
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": len(wins) / len(pnls),
        "pnl": sum(pnls, D(0)),
        "total_pnl": sum(pnls, D(0)),
        "gross_profit": sum(wins, D(0)),
        "gross_loss": -sum(losses, D(0)),
        "best_trade_pnl": max(pnls),
        "worst_trade_pnl": min(pnls),
        "avg_trade_pnl": sum(pnls, D(0)) / len(pnls),
        "fees_paid": sum((t.fees for t in trips), D(0)),
        "funding_paid": D(0),
    }


def _check_rows(
    rows: list[dict[str, Any]], trips: list[Trip], key: Callable[[Trip], Any], field: str
) -> None:
    groups: dict[Any, list[Trip]] = {}
    for trip in trips:
        groups.setdefault(key(trip), []).append(trip)
    assert sorted(str(r[field]) for r in rows) == sorted(str(k) for k in groups)
    for row in rows:
        want = _stats(groups[row[field]])
        for name, value in want.items():
            assert row[name] == value, (field, row[field], name, row[name], value)
    assert [r["pnl"] for r in rows] == sorted((r["pnl"] for r in rows), reverse=True)


async def test_every_breakdown_filtered_and_unfiltered_matches_the_hand_worked_totals(
    app: FastAPI, api: Api, clock: TestClock, market: ScriptedMarket
) -> None:
    traders = await _world(app, api, clock, market)
    alpha, beta = traders["alpha"], traders["beta"]
    client, headers = api.client, alpha.headers
    names = {alpha.id: "Alpha", beta.id: "Beta"}

    async def read(route: str, **params: Any) -> Any:
        return exact(await client.get(f"/api/analytics/{route}", params=params, headers=headers))

    scopes: dict[str, tuple[dict[str, Any], list[Trip]]] = {
        "all": ({}, [t for t in TRIPS if t.trader != "gamma"]),
        "alpha": ({"account_id": alpha.id}, [t for t in TRIPS if t.trader == "alpha"]),
        "beta": ({"account_id": beta.id}, [t for t in TRIPS if t.trader == "beta"]),
        # The feature page's name for the same filter.
        "beta as trader_id": ({"trader_id": beta.id}, [t for t in TRIPS if t.trader == "beta"]),
    }
    account_of = {"alpha": alpha.id, "beta": beta.id}
    for label, (params, trips) in scopes.items():
        _check_rows(await read("by-symbol", **params), trips, lambda t: t.symbol, "symbol")
        _check_rows(await read("by-operation", **params), trips, lambda t: t.side, "operation")
        _check_rows(
            await read("by-account", **params),
            trips,
            lambda t: account_of[t.trader],
            "account_id",
        )
        # Orders placed by hand: one strategy and one trigger, "manual".
        _check_rows(await read("by-strategy", **params), trips, lambda t: "manual", "strategy")
        _check_rows(
            await read("by-trigger-type", **params), trips, lambda t: "manual", "trigger_type"
        )
        for row in await read("by-account", **params):
            assert row["account_name"] == names[row["account_id"]]
        summary = await read("summary", **params)
        assert {k: summary[k] for k in _stats(trips)} == _stats(trips), label
        assert summary["traders"] == (2 if label == "all" else 1)
        listed = await read("trades", **params)
        assert sorted((t["account_id"], t["symbol"], t["pnl"]) for t in listed) == sorted(
            (account_of[t.trader], t.symbol, t.pnl) for t in trips
        ), label
        attribution = await read("ai-attribution", **params)
        assert attribution["total_pnl"] == _stats(trips)["total_pnl"], label
        assert attribution["decisions"] == 0  # no decision cycle ran: all by hand
        assert await read("programs", **params) == []

    # The hand-worked totals themselves, written out once.
    by_symbol = {r["symbol"]: r["pnl"] for r in await read("by-symbol")}
    assert by_symbol == {"BTC": D("174.65"), "ETH": D("84.35")}
    by_operation = {r["operation"]: r["pnl"] for r in await read("by-operation")}
    assert by_operation == {"buy": D("282.35"), "sell": D("-23.35")}
    only_alpha = {r["symbol"]: r["pnl"] for r in await read("by-symbol", account_id=alpha.id)}
    assert only_alpha == {"BTC": D("94.95"), "ETH": D("-103.05")}
    (beta_row,) = await read("by-account", account_id=beta.id)
    assert beta_row["pnl"] == D("267.10") and beta_row["fees_paid"] == D("32.9")

    # Gamma's owner sees only Gamma's trade, filtered or not.
    gamma = traders["gamma"]
    for params in ({}, {"account_id": gamma.id}):
        (row,) = exact(
            await client.get("/api/analytics/by-symbol", params=params, headers=gamma.headers)
        )
        assert (row["symbol"], row["pnl"], row["fees_paid"]) == ("BTC", D("1448.75"), D("51.25"))

    # `days` narrows the filtered answers too: two days on, a one-day window holds nothing.
    clock.at(len(TRIPS) * 60 + 2 * 24 * 60)
    assert await read("by-symbol", days=1, account_id=alpha.id) == []
    assert (await read("summary", days=1, account_id=alpha.id))["total_trades"] == 0
    assert len(await read("by-symbol", days=7, account_id=alpha.id)) == 2


FILTERED_ROUTES = (
    "summary",
    "by-strategy",
    "by-account",
    "by-symbol",
    "by-operation",
    "by-trigger-type",
    "ai-attribution",
    "programs",
    "trades",
)


async def test_another_users_trader_gets_the_summarys_answer_on_every_route(
    app: FastAPI, api: Api
) -> None:
    mine = await new_trader(api, name="Mine")
    theirs = await new_trader(api, name="Theirs")
    client, headers = api.client, mine.headers
    deleted = await create_trader(api, mine.token, name="Gone")
    assert (await client.delete(f"/api/account/{deleted['id']}", headers=headers)).status_code in (
        200,
        204,
    )
    for route in FILTERED_ROUTES:
        url = f"/api/analytics/{route}"
        for name in ("account_id", "trader_id"):
            refused = await client.get(url, params={name: theirs.id}, headers=headers)
            assert_error(refused, 403, "FORBIDDEN")
            for gone in (deleted["id"], 2**31 - 1):
                missing = await client.get(url, params={name: gone}, headers=headers)
                assert_error(missing, 404, "ACCOUNT_NOT_FOUND")
        both = {"account_id": mine.id, "trader_id": theirs.id}
        assert_error(await client.get(url, params=both, headers=headers), 400, "VALIDATION_ERROR")
        same = await client.get(
            url, params={"account_id": mine.id, "trader_id": mine.id}, headers=headers
        )
        assert same.status_code == 200, (route, same.text)
    # Program factor correlation takes the same filter (the factor engine is off here, so
    # its 403 comes first, as on by-factor).
    for route in ("by-factor", "programs/1/factor-correlation"):
        refused = await client.get(
            f"/api/analytics/{route}", params={"account_id": theirs.id}, headers=headers
        )
        assert_error(refused, 403, "FACTOR_ENGINE_DISABLED")


@pytest.mark.parametrize(
    "query",
    [
        "by-symbol?account_id=0",
        "by-strategy?account_id=abc",
        "by-account?trader_id=-1",
        "by-operation?account_id=2147483648",
        "by-trigger-type?user_id=x",
        "programs?account_id=1.5",
    ],
)
async def test_bad_filters_get_the_contracts_error_shape(api: Api, query: str) -> None:
    _, token = await api.user()
    response = await api.client.get(f"/api/analytics/{query}", headers=api.bearer(token))
    assert_error(response, 400, "VALIDATION_ERROR")
