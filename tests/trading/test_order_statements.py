"""What executing an order costs the database: the reads that must happen under the
trader's lock and the rows that change, nothing more (each statement is a round trip,
on SQLite a few hops through aiosqlite's thread)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.helpers import Api
from tests.trading.helpers import new_trader


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The first words of every statement the app's engine runs inside the block."""
    seen: list[str] = []
    engine = app.state.services.engine.sync_engine

    def note(*args: Any) -> None:
        words = args[2].split()
        # The job runner's lease polls share the engine and land between any two awaits.
        if not any(word in ("jobs", "jobs.id") for word in words[:8]):
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
    # The route's ownership check, the trader's execution mode (paper or live:
    # trading.execution), then the ledger, order and trader (one statement on SQLite; on
    # PostgreSQL the ledger's lock first); no look-up of fills that the ledger's numbering
    # says cannot be stored yet; and whether the owner has a chat to tell of the fill
    # (notifications/outbox.py: its message would commit with the fill).
    assert len(reads) == (4 if sqlite else 5), seen
    assert reads[-1].startswith("SELECT bot_chat_bindings"), seen
    assert reads[1].startswith("SELECT accounts.execution_mode"), seen
    assert not any("trading_fills" in s for s in reads), seen
    assert [w for w in writes if not w.startswith("SELECT")] == [
        "INSERT trading_fills",
        "UPDATE trading_orders",
        "UPDATE accounts",
        "UPDATE trading_ledgers",
    ], seen
