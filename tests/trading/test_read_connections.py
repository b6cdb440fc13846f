"""Reads through the paper client while many requests run at once: the request's own
connection is given back first, so more concurrent requests than the pool has
connections all answer (holding it, each needed two at once and they deadlocked until
the pool's timeout)."""

from __future__ import annotations

import asyncio

from tests.helpers import Api
from tests.trading.helpers import new_trader

# Above both pools: SQLite's 5 + 10 and PostgreSQL's 10 + 20 (db/engine.py).
CONCURRENT = 40


async def test_more_concurrent_position_reads_than_connections_all_answer(api: Api) -> None:
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity=0.01)
    paths = [
        f"/api/account/{trader.id}/positions",
        f"/api/account/{trader.id}/trades",
        f"/api/hyperliquid/accounts/{trader.id}/positions",
        f"/api/hyperliquid/account/{trader.id}/state",
    ]
    responses = await asyncio.gather(
        *(api.client.get(paths[n % len(paths)], headers=trader.headers) for n in range(CONCURRENT))
    )
    assert [r.status_code for r in responses] == [200] * CONCURRENT
    assert all(r.json()[0]["symbol"] == "BTC" for r in responses[0::4])
