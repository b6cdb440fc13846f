"""Migration 0015 moves the primary strategies (account_strategies) and the bindings
(strategy_bindings) into one table, trader_strategies, and their clocks (trader_runtime,
binding_runtime) into strategy_runtime, on both databases. Data written through the API is
taken back to the old tables by the downgrade and forward again by the upgrade: the API
answers exactly as before, binding ids included, and no clock is lost."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from hyperoru.runtime.scheduler import TraderScheduler
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow
from tests.accounts.helpers import create_trader
from tests.db.migrations import migrate
from tests.helpers import Api

REVISION = "0015_trader_strategies"


async def _rows(app: FastAPI, sql: str) -> list[tuple[Any, ...]]:
    async with app.state.services.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def _views(api: Api, token: str, trader_ids: list[int]) -> dict[str, Any]:
    auth = api.bearer(token)
    strategies = [
        (await api.client.get(f"/api/account/{i}/strategy", headers=auth)).json()
        for i in trader_ids
    ]
    bindings = (await api.client.get("/api/bindings", headers=auth)).json()
    for view in [*strategies, *bindings]:
        view.pop("updated_at", None)
    return {"strategies": strategies, "bindings": bindings}


async def _ok(account_id: int, trigger: Trigger) -> CycleOutcome:
    return CycleOutcome(ok=True)


async def test_strategies_and_clocks_survive_the_migration_both_ways(
    app: FastAPI, api: Api
) -> None:
    _, token = await api.user()
    auth = api.bearer(token)
    first = await create_trader(api, token, name="first", llm_provider="builtin")
    second = await create_trader(api, token, name="second", llm_provider="builtin")
    for trader, symbols in ((first, ["BTC"]), (second, ["ETH", "SOL"])):
        response = await api.client.put(
            f"/api/account/{trader['id']}/strategy",
            json={"symbols": symbols, "trigger_interval": 300},
            headers=auth,
        )
        assert response.status_code == 200, response.text
    created = []
    for trader in (first, second, first):
        response = await api.client.post(
            "/api/bindings",
            json={
                "account_id": trader["id"],
                "trigger_interval": 600,
                "scheduled_trigger_enabled": True,
                "params_override": {"fast": 3},
            },
            headers=auth,
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    await api.client.delete(f"/api/bindings/{created[1]}", headers=auth)  # a gap in the ids
    await TraderScheduler(app.state.services.sessionmaker, _ok).tick(utcnow())  # every clock starts
    ids = [first["id"], second["id"]]
    before = await _views(api, token, ids)
    clocks = await _rows(
        app,
        "SELECT s.account_id, s.kind, r.next_run_at FROM strategy_runtime r "
        "JOIN trader_strategies s ON s.id = r.strategy_id ORDER BY s.account_id, s.kind, s.id",
    )
    assert len(clocks) == 4 and all(row[2] is not None for row in clocks)

    await migrate(app, REVISION, "down")
    assert await _rows(
        app, "SELECT account_id, symbols FROM account_strategies ORDER BY account_id"
    ) in (
        [(first["id"], ["BTC"]), (second["id"], ["ETH", "SOL"])],
        [(first["id"], '["BTC"]'), (second["id"], '["ETH", "SOL"]')],  # SQLite: JSON text
    )
    assert [row[0] for row in await _rows(app, "SELECT id FROM strategy_bindings ORDER BY id")] == [
        created[0],
        created[2],
    ]
    old_clocks = await _rows(
        app, "SELECT next_run_at FROM trader_runtime WHERE next_run_at IS NOT NULL"
    )
    binding_clocks = await _rows(app, "SELECT next_run_at FROM binding_runtime")
    assert (len(old_clocks), len(binding_clocks)) == (2, 2)

    await migrate(app, REVISION, "up")
    assert await _views(api, token, ids) == before
    assert (
        await _rows(
            app,
            "SELECT s.account_id, s.kind, r.next_run_at FROM strategy_runtime r "
            "JOIN trader_strategies s ON s.id = r.strategy_id ORDER BY s.account_id, s.kind, s.id",
        )
        == clocks
    )
    # Still one primary strategy per trader: a second one is refused by the database.
    saved = await api.client.put(
        f"/api/account/{first['id']}/strategy", json={"symbols": ["DOGE"]}, headers=auth
    )
    assert saved.status_code == 200 and saved.json()["symbols"] == ["DOGE"]
    kinds = await _rows(
        app,
        f"SELECT kind, count(*) FROM trader_strategies WHERE account_id = {first['id']} "
        "GROUP BY kind ORDER BY kind",
    )
    assert kinds == [("binding", 2), ("primary", 1)]
