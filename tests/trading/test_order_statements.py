"""What creating and executing an order costs the database: the reads that must happen
(under the trader's lock, for an execution) and the rows that change, nothing more. Each
statement is a round trip (on SQLite a hop to the connection's thread) and the order
routes' throughput is bounded by them (bench/order_profile.py prints the same counts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.helpers import Api
from tests.trading.helpers import new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The first words of every statement the app's engine runs inside the block."""
    seen: list[str] = []
    engine = app.state.services.engine.sync_engine

    def note(*args: Any) -> None:
        words = args[2].split()
        # The job runner's lease polls share the engine and land between any two awaits;
        # the token check is cached for seconds and may or may not fall inside the block.
        background = ("jobs", "jobs.id", "user_sessions", "users")
        if not any(word in background for word in words[:8]):
            seen.append(" ".join(words[:4]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_market_order_executes_in_one_short_transaction(app: FastAPI, api: Api) -> None:
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity=0.01)  # the ledger exists from here on
    created = await trader.create(side="sell", quantity=0.01)
    sqlite = app.state.services.engine.dialect.name == "sqlite"
    with statements(app) as seen:
        executed = await trader.execute(created.json()["id"])
    assert executed.status_code == 200 and executed.json()["execution_status"] == "filled"
    reads = [s for s in seen if s.startswith("SELECT")]
    writes = [s.split()[0] + " " + s.split()[2 if s.startswith("INSERT") else 1] for s in seen]
    # The route's ownership check with the trader's execution mode (paper or live:
    # trading.execution) in one read, then the ledger, order and trader (one statement on
    # SQLite; on PostgreSQL the ledger's lock first) with whether the owner has a chat to
    # tell of the fill (its message would commit with the fill: notifications/outbox.py;
    # this owner has none, so the chats are not read); no look-up of fills that the
    # ledger's numbering says cannot be stored yet.
    assert len(reads) == (2 if sqlite else 3), seen
    assert reads[0].startswith("SELECT trading_orders.account_id, trading_orders.user_id"), seen
    assert not any("bot_chat_bindings" in s for s in reads), seen
    assert not any("trading_fills" in s for s in reads), seen
    assert [w for w in writes if not w.startswith("SELECT")] == [
        "INSERT trading_fills",
        "UPDATE trading_orders",
        "UPDATE accounts",
        "UPDATE trading_ledgers",
    ], seen
    assert len(seen) == (6 if sqlite else 7), seen


async def test_creating_an_order_reads_the_trader_and_inserts_the_order(
    app: FastAPI, api: Api
) -> None:
    trader = await new_trader(api)
    with statements(app) as seen:
        created = await trader.create(side="buy", quantity=0.01)
    assert created.status_code == 201, created.text
    # The owned trader (its defaults and leverage limit), then the order: nothing else.
    assert [" ".join(s.split()[:2]) for s in seen] == ["SELECT accounts.id,", "INSERT INTO"], seen
    assert "trading_orders" in seen[1], seen
    # The answer carries the inserted row's id and what was stored.
    listed = await api.client.get(f"/api/orders/account/{trader.id}", headers=trader.headers)
    assert listed.json()[0] == created.json()


async def test_fills_of_one_transaction_are_one_insert_with_their_own_ids(
    app: FastAPI, api: Api, market: ScriptedMarket, clock: TestClock
) -> None:
    """A monitor tick that fills a resting limit and then a stop writes both fills with
    one INSERT, and each stored row keeps the id its events and answers carry."""
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity=0.1, stop_loss_price=45000)
    resting = (
        await trader.create(side="buy", quantity=0.1, order_type="limit", price=49000)
    ).json()
    assert (await trader.execute(resting["id"])).json()["execution_status"] == "open"
    clock.at(1)
    await market.set("BTC", 44000)  # through the limit, then the stop
    with statements(app) as seen:
        await tick(app)
    assert sum(s.startswith("INSERT INTO trading_fills") for s in seen) == 1, seen
    trades = await trader.get(f"/api/account/{trader.id}/trades")
    assert [(t["side"], t["quantity"], t["liquidity"]) for t in trades] == [
        ("sell", 0.2, "taker"),
        ("buy", 0.1, "maker"),
        ("buy", 0.1, "taker"),
    ]
    assert len({t["id"] for t in trades}) == 3
    orders = {o["id"]: o for o in await trader.get(f"/api/orders/account/{trader.id}")}
    assert orders[resting["id"]]["status"] == "filled"
    assert orders[resting["id"]]["filled_quantity"] == 0.1
    assert orders[resting["id"]]["average_price"] == 49000
