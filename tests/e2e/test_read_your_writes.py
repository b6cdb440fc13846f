"""Read-your-writes across processes: two `hyperoru serve` processes on one PostgreSQL and
one Redis; every write goes through one and the very next read through the other, which
serves from its in-memory copies. No wait in between: the answer must not depend on when
the event bus delivers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import scaled_env, serve
from tests.helpers import STRONG_PASSWORD

ROUNDS = 12


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    return scaled_env(
        database_url,
        redis_url,
        RUNTIME="off",
        RATE_LIMIT_AUTH_PER_MINUTE="1000",
        RATE_LIMIT_USER_PER_MINUTE="100000",
    )


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_a_write_through_one_process_is_read_through_the_other(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = _env(postgres_url, redis_url)
    with (
        serve(tmp_path / "a", env) as first,
        serve(tmp_path / "b", env) as second,
        httpx.Client(base_url=first.base_url, timeout=30) as writer,
        httpx.Client(base_url=second.base_url, timeout=30) as reader,
    ):
        body = {"username": "everywhere", "password": STRONG_PASSWORD}
        _ok(writer.post("/api/users/register", json=body), 201)
        token = _ok(writer.post("/api/users/login", json=body))["session_token"]
        writer.headers["Authorization"] = reader.headers["Authorization"] = f"Bearer {token}"
        trader = _ok(
            writer.post("/api/account/", json={"name": "t", "initial_capital": 100000}), 201
        )
        account = f"/api/account/{trader['id']}"

        def read_all() -> dict[str, Any]:
            return {
                "list": _ok(reader.get("/api/account/list")),
                "overview": _ok(reader.get("/api/account/overview")),
                "trader_overview": _ok(reader.get(f"{account}/overview")),
                "positions": _ok(reader.get(f"{account}/positions")),
                "state": _ok(reader.get(f"/api/hyperliquid/account/{trader['id']}/state")),
                "profile": _ok(reader.get("/api/users/profile")),
            }

        read_all()  # the reader's copies are warm before the first write

        for round_ in range(ROUNDS):
            name = f"name {round_}"
            _ok(writer.put(account, json={"name": name}))
            seen = read_all()
            assert [t["name"] for t in seen["list"]] == [name]
            assert seen["overview"]["name"] == seen["trader_overview"]["name"] == name

            username = f"everywhere{round_}"
            _ok(writer.put("/api/users/profile", json={"username": username}))
            assert _ok(reader.get("/api/users/profile"))["username"] == username

        size = Decimal("0.001")
        cash = Decimal(str(read_all()["list"][0]["current_cash"]))
        for round_ in range(1, ROUNDS + 1):
            order = {"account_id": trader["id"], "symbol": "BTC", "side": "buy"}
            created = _ok(
                writer.post(
                    "/api/orders/create",
                    json={**order, "order_type": "market", "quantity": str(size)},
                ),
                201,
            )
            executed = _ok(writer.post(f"/api/orders/execute/{created['id']}"))
            assert executed["execution_status"] == "filled", executed
            seen = read_all()
            assert [(p["symbol"], Decimal(str(p["size"]))) for p in seen["positions"]] == [
                ("BTC", size * round_)
            ]
            assert seen["trader_overview"]["total_trades"] == round_
            assert seen["state"]["margin_used"] > 0
            now_cash = Decimal(str(seen["list"][0]["current_cash"]))
            assert now_cash < cash  # the fee of this fill is in
            cash = now_cash

        second_trader = _ok(writer.post("/api/account/", json={"name": "second"}), 201)
        assert [t["name"] for t in _ok(reader.get("/api/account/list"))] == [name, "second"]
        _ok(writer.delete(f"/api/account/{second_trader['id']}"), 204)
        assert [t["name"] for t in _ok(reader.get("/api/account/list"))] == [name]
        gone = reader.get(f"/api/account/{second_trader['id']}/overview")
        assert gone.status_code == 404, gone.text
