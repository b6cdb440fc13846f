"""A real `hyperoru serve` process killed with SIGKILL in the middle of order activity,
then restarted on the same database: nothing the API reported is lost, nothing is doubled,
and every order is either untouched (pending, no fills) or fully applied.

The ledger is checked against itself after the restart: each order's fills add up to its
filled quantity, the position is the sum of the fills, and the cash is the initial capital
plus realised PnL minus fees minus the funding payments stored (catch-up may add funding
for an hour boundary crossed while the server was down; it must add it exactly once).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from hyperoru.trading.models import FundingPayment
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.server import RunningServer, serve
from tests.helpers import STRONG_PASSWORD

D = Decimal
CAPITAL = 1_000_000


@contextmanager
def _server(tmp_path: Path, database_url: str) -> Iterator[RunningServer]:
    env = {"HYPERORU_DATABASE_URL": database_url, "HYPERORU_SECRET_KEY": TEST_SECRET_KEY}
    with serve(tmp_path / "data", env) as server:
        yield server


def _login(client: httpx.Client) -> dict[str, str]:
    body = {"username": "survivor", "password": STRONG_PASSWORD}
    if client.post("/api/users/register", json=body).status_code not in (201, 409):
        raise AssertionError("register failed")
    token = client.post("/api/users/login", json=body).json()["session_token"]
    return {"Authorization": f"Bearer {token}"}


def _trade(client: httpx.Client, headers: dict[str, str], **order: object) -> dict:
    created = client.post("/api/orders/create", json=order, headers=headers)
    assert created.status_code == 201, created.text
    executed = client.post(f"/api/orders/execute/{created.json()['id']}", headers=headers)
    assert executed.status_code == 200, executed.text
    return executed.json()


async def _funding_total(database_url: str, account_id: int) -> Decimal:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(
                select(func.coalesce(func.sum(FundingPayment.payment), 0)).where(
                    FundingPayment.account_id == account_id
                )
            )
    finally:
        await engine.dispose()
    return D(str(total))


def test_a_killed_server_loses_and_doubles_nothing(tmp_path: Path, database_url: str) -> None:
    reported: list[dict] = []  # executions the API answered before the kill
    with (
        _server(tmp_path, database_url) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        headers = _login(client)
        account = client.post(
            "/api/account/", json={"name": "survivor", "initial_capital": CAPITAL}, headers=headers
        ).json()
        price = D(str(client.get("/api/crypto/price/BTC", headers=headers).json()["price"]))
        size = float(round(D(200) / price, 5))
        base = {"account_id": account["id"], "symbol": "BTC", "order_type": "market"}
        # A resting limit far below the market and a long protected by far triggers.
        resting = _trade(
            client, headers, **{**base, "side": "buy", "order_type": "limit",
                                "price": int(price / 2), "quantity": size * 4}
        )  # fmt: skip
        assert resting["execution_status"] == "open"
        triggers = {"take_profit_price": int(price * 2), "stop_loss_price": int(price / 2)}
        protected = _trade(client, headers, **base, side="buy", quantity=size, **triggers)
        reported += [protected]

        stop, killing = threading.Event(), threading.Event()
        lock = threading.Lock()
        # What went wrong in a worker thread: an exception there would otherwise end only
        # that thread, and the test would pass on whatever the others reported.
        failures: list[BaseException] = []

        def keep_trading() -> None:
            with httpx.Client(base_url=server.base_url, timeout=10) as worker:
                while not stop.is_set():
                    try:
                        outcome = _trade(worker, headers, **base, side="buy", quantity=size)
                    except httpx.TransportError as exc:
                        # The kill cuts the connections; a broken one before it is a failure.
                        if not killing.is_set():
                            with lock:
                                failures.append(exc)
                        return
                    except BaseException as exc:  # handed to the main thread, raised there
                        with lock:
                            failures.append(exc)
                        return
                    with lock:
                        reported.append(outcome)

        workers = [threading.Thread(target=keep_trading) for _ in range(4)]
        for worker in workers:
            worker.start()
        while True:
            with lock:
                if len(reported) >= 25 or failures:
                    break
            threading.Event().wait(0.01)
        killing.set()
        server.process.kill()  # SIGKILL: no shutdown hooks, requests in flight
        server.process.wait()
        stop.set()
        for worker in workers:
            worker.join()
        if failures:
            raise AssertionError(f"{len(failures)} worker thread(s) failed") from failures[0]
    assert all(r["execution_status"] == "filled" for r in reported)

    with (
        _server(tmp_path, database_url) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        headers = _login(client)
        account_id = account["id"]
        orders = client.get(
            f"/api/orders/account/{account_id}", params={"limit": 1000}, headers=headers
        ).json()
        trades = client.get(
            f"/api/account/{account_id}/trades", params={"limit": 1000}, headers=headers
        ).json()
        positions = client.get(f"/api/account/{account_id}/positions", headers=headers).json()
        overview = client.get(f"/api/account/{account_id}/overview", headers=headers).json()

    # Nothing lost: every execution the API reported is there, with the same fills.
    fills_by_order: dict[int, list[dict]] = {}
    for trade in trades:
        fills_by_order.setdefault(trade["order_id"], []).append(trade)
    for outcome in reported:
        stored = sorted(f["id"] for f in fills_by_order[outcome["order_id"]])
        assert stored == sorted(f["id"] for f in outcome["fills"])
    # Nothing doubled or half-applied: fill ids are unique, and each order is either
    # untouched or filled by exactly its own quantity.
    assert len({t["id"] for t in trades}) == len(trades)
    by_id = {o["id"]: o for o in orders}
    for order in orders:
        filled = sum(D(str(f["quantity"])) for f in fills_by_order.get(order["id"], []))
        assert filled == D(str(order["filled_quantity"])), order
        if order["status"] == "pending":
            assert filled == 0
        elif order["id"] != resting["order_id"]:
            assert order["status"] == "filled" and filled == D(str(order["quantity"]))
    assert by_id[resting["order_id"]]["status"] == "open"
    # The position is the sum of the fills; the cash is the sum of the ledger's movements.
    (position,) = positions
    assert D(str(position["size"])) == sum(D(str(t["quantity"])) for t in trades)
    funding = asyncio.run(_funding_total(database_url, account_id))
    cash = (
        CAPITAL
        + sum(D(str(t["realized_pnl"])) for t in trades)
        - sum(D(str(t["fee"])) for t in trades)
        - funding
    )
    assert abs(D(str(overview["account"]["current_cash"])) - cash) < D("1e-6")
    assert overview["total_trades"] == len(trades)
