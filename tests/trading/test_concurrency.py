"""Races: parallel executes of one order fill it once; parallel creates with one
client_order_id make one order. On PostgreSQL a second paper client (as in a second
server process, with its own in-process locks) races the first, so only the row lock
``SELECT … FOR UPDATE`` keeps them apart."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from hyperoru.errors import ApiError
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.paper_client import PaperExchange
from tests.helpers import Api
from tests.trading.helpers import new_trader


async def test_twenty_parallel_executes_fill_once(api: Api) -> None:
    trader = await new_trader(api)
    order = (await trader.create(side="buy", quantity=0.1)).json()
    responses = await asyncio.gather(*(trader.execute(order["id"]) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19
    assert all(r.json()["code"] == "ORDER_NOT_PENDING" for r in responses if r.status_code == 409)
    assert len(await trader.get(f"/api/account/{trader.id}/trades")) == 1
    (position,) = await trader.get(f"/api/account/{trader.id}/positions")
    assert position["size"] == 0.1


async def test_parallel_creates_with_one_client_order_id_make_one_order(api: Api) -> None:
    trader = await new_trader(api)
    responses = await asyncio.gather(
        *(trader.create(side="buy", quantity=0.1, client_order_id="once") for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await trader.get(f"/api/orders/account/{trader.id}")) == 1


# Several processes on one database is the scaled shape, which runs on PostgreSQL only
# (SQLite has one writer process; there the in-process lock is the serialisation).
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_processes_racing_on_postgres_fill_once(
    api: Api, app: FastAPI, database_url: str
) -> None:
    trader = await new_trader(api)
    order = (await trader.create(side="buy", quantity=0.1)).json()
    state = app.state
    services = state.services
    clients = [services.trading.paper] + [
        PaperExchange(
            sessionmaker=services.sessionmaker,
            feed=MarketFeed(lambda: services.market),
            clock=state.trading_clock,
            bus=lambda: None,
        )
        for _ in range(3)
    ]

    async def execute(client: PaperExchange) -> str:
        try:
            report = await client.execute(account_id=trader.id, order_id=order["id"])
        except ApiError as exc:
            return exc.code
        return report.execution_status

    outcomes = await asyncio.gather(*(execute(c) for c in clients for _ in range(5)))
    assert sorted(outcomes) == ["ORDER_NOT_PENDING"] * 19 + ["filled"]
    assert len(await trader.get(f"/api/account/{trader.id}/trades")) == 1
