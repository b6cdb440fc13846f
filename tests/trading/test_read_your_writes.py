"""The read routes served from memory (``trading.read_model``, ``auth.profile_reads``)
never show an owner's data older than their last write, whatever wrote it (the API, an
execution, the monitor), and never show one user another user's data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from hyperoru.accounts.models import Account
from hyperoru.db.versions import LocalVersions
from hyperoru.trading.read_model import TraderReads
from tests.helpers import Api, assert_error
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock


async def _reads(trader: Trader) -> dict[str, Any]:
    """Every cached read route of the trader, read once."""
    account = f"/api/account/{trader.id}"
    return {
        "list": await trader.get("/api/account/list", include_hidden=True),
        "overview": await trader.get("/api/account/overview"),
        "account": await trader.get(account),
        "trader_overview": await trader.get(f"{account}/overview"),
        "positions": await trader.get(f"{account}/positions"),
        "hl_positions": await trader.get(f"/api/hyperliquid/accounts/{trader.id}/positions"),
        "state": await trader.get(f"/api/hyperliquid/account/{trader.id}/state"),
    }


async def test_account_changes_show_on_the_next_read(api: Api) -> None:
    trader = await new_trader(api, initial_capital=10000)
    await _reads(trader)  # every copy is warm
    for round_ in range(3):
        name = f"renamed {round_}"
        changed = await api.client.put(
            f"/api/account/{trader.id}", json={"name": name}, headers=trader.headers
        )
        assert changed.status_code == 200, changed.text
        seen = await _reads(trader)
        assert [a["name"] for a in seen["list"]] == [name]
        assert seen["account"]["name"] == name
        assert seen["overview"]["name"] == seen["overview"]["account"]["name"] == name
        assert seen["trader_overview"]["name"] == name

    hidden = await api.client.put(
        f"/api/account/{trader.id}", json={"show_on_dashboard": False}, headers=trader.headers
    )
    assert hidden.status_code == 200
    assert await trader.get("/api/account/list") == []
    assert [a["id"] for a in await trader.get("/api/account/list", include_hidden=True)] == [
        trader.id
    ]

    second = await api.client.post("/api/account/", json={"name": "two"}, headers=trader.headers)
    assert second.status_code == 201
    assert [a["name"] for a in await trader.get("/api/account/list")] == ["two"]

    deleted = await api.client.delete(f"/api/account/{trader.id}", headers=trader.headers)
    assert deleted.status_code == 204
    for path in (f"/api/account/{trader.id}", f"/api/account/{trader.id}/positions"):
        gone = await api.client.get(path, headers=trader.headers)
        assert_error(gone, 404, "ACCOUNT_NOT_FOUND")
    listed = await trader.get("/api/account/list", include_hidden=True)
    assert [a["name"] for a in listed] == ["two"]
    assert (await trader.get("/api/account/overview"))["name"] == "two"


async def test_fills_show_on_the_next_read(api: Api, market: ScriptedMarket) -> None:
    trader = await new_trader(api, initial_capital=10000)
    before = await _reads(trader)
    assert before["positions"] == [] and before["trader_overview"]["total_trades"] == 0

    await trader.trade(side="buy", quantity=0.2, leverage=5)  # at 50010, fee 4.5009
    after = await _reads(trader)
    assert [(p["symbol"], p["size"]) for p in after["positions"]] == [("BTC", 0.2)]
    assert after["hl_positions"]["total_count"] == 1
    assert after["trader_overview"]["total_trades"] == 1
    assert after["account"]["current_cash"] == 10000 - 4.5009
    assert after["state"]["margin_used"] > 0

    # Equity follows the price cache's marks on every read, no write needed.
    await market.set("BTC", 51000)
    marked = await _reads(trader)
    equity = 10000 - 4.5009 + 0.2 * (51000 - 50010)
    assert marked["list"][0]["equity"] == pytest.approx(equity)
    assert marked["trader_overview"]["equity"] == pytest.approx(equity)
    assert marked["state"]["balance_total"] == pytest.approx(equity)
    assert marked["positions"][0]["mark_price"] == 51000


async def test_the_monitors_fills_show_on_the_next_read(
    api: Api, app: FastAPI, market: ScriptedMarket, clock: TestClock
) -> None:
    trader = await new_trader(api, initial_capital=10000)
    resting = await trader.trade(side="buy", order_type="limit", price=49000, quantity=0.1)
    assert resting["execution_status"] == "open"
    assert (await _reads(trader))["positions"] == []

    clock.at(1)
    await market.set("BTC", 48000)  # the book crosses the resting order
    await tick(app)
    seen = await _reads(trader)
    assert [(p["symbol"], p["size"]) for p in seen["positions"]] == [("BTC", 0.1)]
    assert seen["trader_overview"]["total_trades"] == 1


async def test_a_profile_change_shows_on_the_next_read(api: Api) -> None:
    user, token = await api.user()
    headers = api.bearer(token)
    assert (await api.client.get("/api/users/profile", headers=headers)).json()["id"] == user["id"]
    for round_ in range(3):
        name = f"{user['username']}x{round_}"
        changed = await api.client.put(
            "/api/users/profile", json={"username": name}, headers=headers
        )
        assert changed.status_code == 200, changed.text
        shown = (await api.client.get("/api/users/profile", headers=headers)).json()
        assert (shown["id"], shown["username"]) == (user["id"], name)


async def test_nobody_reads_another_users_copy(api: Api) -> None:
    owner = await new_trader(api, name="owner's")
    await owner.trade(side="buy", quantity=0.1)
    await _reads(owner)  # the owner's copies are warm
    intruder = await new_trader(api, name="intruder's")

    for path in (
        f"/api/account/{owner.id}",
        f"/api/account/{owner.id}/overview",
        f"/api/account/{owner.id}/positions",
        f"/api/account/{owner.id}/trades",
        f"/api/account/{owner.id}/asset-curve",
        f"/api/hyperliquid/accounts/{owner.id}/positions",
        f"/api/hyperliquid/account/{owner.id}/state",
    ):
        refused = await api.client.get(path, headers=intruder.headers)
        assert_error(refused, 403, "FORBIDDEN")
    assert [a["name"] for a in await intruder.get("/api/account/list")] == ["intruder's"]
    assert (await intruder.get("/api/account/overview"))["id"] == intruder.id
    assert (await intruder.get("/api/users/profile"))["id"] == intruder.user["id"]
    assert (await owner.get("/api/users/profile"))["id"] == owner.user["id"]
    missing = await api.client.get("/api/account/2000000000/overview", headers=owner.headers)
    assert_error(missing, 404, "ACCOUNT_NOT_FOUND")


async def test_a_write_behind_the_versions_back_shows_within_the_copys_lifetime(
    api: Api, app: FastAPI
) -> None:
    """Writes that do not bump a version (the CLI, a worker process without Redis) are
    bounded by the copy's lifetime; a bump shows any write at once."""
    trader = await new_trader(api, name="before")
    services = app.state.services
    now = [0.0]
    versions = LocalVersions()
    reads = TraderReads(
        services.sessionmaker,
        versions,
        services.trading.paper.feed,
        clock=services.trading.paper.now,
        ttl_seconds=5,
        monotonic=lambda: now[0],
    )
    user_id = trader.user["id"]
    assert (await reads.traders(user_id)).by_id[trader.id].account.name == "before"

    async with services.sessionmaker() as session:
        await session.execute(update(Account).where(Account.id == trader.id).values(name="behind"))
        await session.commit()
    now[0] = 4.9
    assert (await reads.traders(user_id)).by_id[trader.id].account.name == "before"
    now[0] = 5.0
    assert (await reads.traders(user_id)).by_id[trader.id].account.name == "behind"

    async with services.sessionmaker() as session:
        await session.execute(update(Account).where(Account.id == trader.id).values(name="bumped"))
        await session.commit()
    await versions.bump(user_id)
    assert (await reads.traders(user_id)).by_id[trader.id].account.name == "bumped"
