"""A real `hyperoru serve` process trading live on the loopback Hyperliquid fake is killed
with SIGKILL in the middle of an order burst, then restarted on the same database: after
the start-up reconciliation every order the venue took is in the journal and resolved,
no order reached the venue twice, every venue fill is in the ledger exactly once, and the
positions the API answers are the venue's.

The kill is made to land at the worst moment on purpose: the venue accepts an order and
its answer never comes (the fake hangs that connection), so the server dies holding an
order it sent and never learnt the outcome of. Around it, four clients keep ordering.

The user, the trader and its credentials are set up by an in-process app on the same
database (two-factor codes need a clock the test moves); the server process then starts
with the same secret key and data directory, so it unseals the same credentials.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account as EthAccount
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from hyperoru.app import create_app, replace_services
from hyperoru.auth import totp
from hyperoru.settings import Settings
from hyperoru.trading.live.models import LiveOrder
from hyperoru.trading.models import TradingFill
from tests.accounts.helpers import create_trader
from tests.auth.totp_helpers import Clock, enrolled_user
from tests.conftest import LIFESPAN_SECONDS, TEST_SECRET_KEY, asgi_client, running
from tests.e2e.server import RunningServer, serve
from tests.fakes.hyperliquid_venue import FakeHyperliquid, fake_hyperliquid
from tests.fakes.threaded import ThreadedFake, in_thread
from tests.helpers import Api

D = Decimal
SIZE = "0.0002"  # $20 at the fake's mid: above the venue's $10 minimum
WORKERS = 4
BEFORE_THE_HANG = 12  # orders answered before the hanging one is let through
WAIT_SECONDS = 60  # a bound on waiting for a condition, never a timing assertion


def _wall_clock() -> Clock:
    """A two-factor clock at the wall's current step: the credential check signs a venue
    request with it, and the fake keeps nonces near its (wall) block time."""
    now = datetime.now(UTC)
    step_start = totp.time_step(now) * totp.STEP_SECONDS
    return Clock(now=datetime.fromtimestamp(step_start, UTC))


async def _prepare(settings: Settings, master: str, agent_key: str) -> tuple[str, int]:
    """A user with two-factor, and a live trader connected to the fake; (token, trader id)."""
    app = create_app(settings)
    async with running(app), asgi_client(app) as http:
        api = Api(http)
        clock = _wall_clock()
        replace_services(app, clock=clock)
        user = await enrolled_user(api, clock)
        account = await create_trader(api, user.token, auto_trading_enabled=False)
        headers = api.bearer(user.token)
        connected = await http.put(
            f"/api/account/{account['id']}/exchange",
            json={
                "exchange": "hyperliquid",
                "environment": "testnet",
                "master_address": master,
                "agent_private_key": agent_key,
                "totp_code": clock.code(user.secret),
            },
            headers=headers,
        )
        assert connected.status_code == 200, connected.text
        clock.advance()
        live = await http.put(
            f"/api/account/{account['id']}",
            json={"execution_mode": "live", "totp_code": clock.code(user.secret)},
            headers=headers,
        )
        assert live.status_code == 200, live.text
        return user.token, account["id"]


@contextmanager
def _server(tmp_path: Path, database_url: str, venue_url: str) -> Iterator[RunningServer]:
    env = {
        "HYPERORU_DATABASE_URL": database_url,
        "HYPERORU_SECRET_KEY": TEST_SECRET_KEY,
        "HYPERORU_LIVE_TRADING": "enabled",
        "HYPERORU_HYPERLIQUID_BASE_URL": venue_url,
        "HYPERORU_RUNTIME": "off",  # the burst is the only source of orders
    }
    # Start-up migrates (PostgreSQL) and may be slow on a loaded machine; a hang still fails.
    with serve(tmp_path / "data", env, start_seconds=LIFESPAN_SECONDS) as server:
        yield server


def _trade(client: httpx.Client, headers: dict[str, str], account_id: int) -> dict[str, Any]:
    order = {
        "account_id": account_id,
        "symbol": "BTC",
        "side": "buy",
        "order_type": "market",
        "quantity": float(SIZE),
    }
    created = client.post("/api/orders/create", json=order, headers=headers)
    assert created.status_code == 201, created.text
    executed = client.post(f"/api/orders/execute/{created.json()['id']}", headers=headers)
    assert executed.status_code == 200, executed.text
    return executed.json()


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        threading.Event().wait(0.05)


def _catch_up(fake: ThreadedFake[FakeHyperliquid]) -> None:
    """The fake's clock stands still unless moved: bring it to the wall's time, where the
    server's nonces and ingest cursors are."""
    fake.call(lambda v: v.advance_clock(max(0.0, time.time() - v.now_ms / 1000)), fake.venue)


async def _stored(database_url: str, account_id: int) -> tuple[list[LiveOrder], list[str]]:
    """The journal rows and the venue fill ids of the ledger."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            journal = (
                await connection.execute(
                    select(LiveOrder).where(LiveOrder.account_id == account_id)
                )
            ).all()
            fill_ids = (
                await connection.scalars(
                    select(TradingFill.venue_fill_id).where(TradingFill.account_id == account_id)
                )
            ).all()
    finally:
        await engine.dispose()
    return [LiveOrder(**row._asdict()) for row in journal], [str(f) for f in fill_ids]


def test_a_killed_live_server_loses_and_doubles_nothing(
    tmp_path: Path, database_url: str, make_settings: Callable[..., Settings]
) -> None:
    agent = EthAccount.create()
    agent_key = "0x" + agent.key.hex().removeprefix("0x")
    master = "0x" + secrets.token_hex(20)
    with in_thread(fake_hyperliquid) as fake:
        venue = fake.venue
        fake.call(venue.open_account, master, D(1_000_000))
        fake.call(venue.approve_agent, master, agent.address)
        fake.call(venue.set_mid, "BTC", "100000")
        settings = make_settings(live_trading="enabled", hyperliquid_base_url=venue.base_url)
        token, account_id = asyncio.run(_prepare(settings, master, agent_key))
        headers = {"Authorization": f"Bearer {token}"}
        _catch_up(fake)

        reported: list[dict[str, Any]] = []  # what the API answered before the kill
        failures: list[BaseException] = []
        lock, killing = threading.Lock(), threading.Event()
        with _server(tmp_path, database_url, venue.base_url) as server:

            def keep_trading() -> None:
                with httpx.Client(base_url=server.base_url, timeout=30) as client:
                    while True:
                        try:
                            outcome = _trade(client, headers, account_id)
                        except httpx.TransportError as exc:
                            if not killing.is_set():  # only the kill may cut a connection
                                with lock:
                                    failures.append(exc)
                            return
                        except BaseException as exc:  # raised in the main thread
                            with lock:
                                failures.append(exc)
                            return
                        with lock:
                            reported.append(outcome)

            workers = [threading.Thread(target=keep_trading) for _ in range(WORKERS)]
            for worker in workers:
                worker.start()
            _wait_for(lambda: len(reported) >= BEFORE_THE_HANG or bool(failures), "the burst")
            # The next order the venue takes is never answered; the server dies waiting.
            fake.call(setattr, venue.faults, "after_accept", "hang")
            _wait_for(
                lambda: fake.call(lambda: venue.faults.after_accept is None) or bool(failures),
                "the venue to take the hanging order",
            )
            killing.set()
            server.process.kill()  # SIGKILL: no shutdown hooks, requests in flight
            server.process.wait()
            for worker in workers:
                worker.join()
        if failures:
            raise AssertionError(f"{len(failures)} worker(s) failed") from failures[0]
        assert all(r["execution_status"] == "filled" for r in reported), reported
        hung = fake.call(lambda: venue.orders_of(master)[-1])
        assert hung.status == "filled"  # the venue filled it; the server never heard

        _catch_up(fake)
        with (
            _server(tmp_path, database_url, venue.base_url) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):

            def resolved() -> bool:
                events = client.get(
                    f"/api/account/{account_id}/reconciliation", headers=headers
                ).json()
                return any(e["kind"] == "order_resolved" for e in events)

            # The start-up reconciliation (the live monitor's first tick) asks for it.
            _wait_for(resolved, "the start-up reconciliation")
            # The trader still trades after the restart (fresh nonces, same journal).
            after = _trade(client, headers, account_id)
            assert after["execution_status"] == "filled", after
            orders = client.get(
                f"/api/orders/account/{account_id}", params={"limit": 1000}, headers=headers
            ).json()
            trades = client.get(
                f"/api/account/{account_id}/trades", params={"limit": 1000}, headers=headers
            ).json()
            positions = client.get(f"/api/account/{account_id}/positions", headers=headers).json()
            events = client.get(f"/api/account/{account_id}/reconciliation", headers=headers).json()

        at_venue = fake.call(lambda: list(venue.orders_of(master)))
        venue_fills = fake.call(lambda: list(venue.accounts[master.lower()].fills))
        venue_position = fake.call(venue.position, master, "BTC")
        sent = fake.call(
            lambda: [
                o["c"]
                for request in venue.exchange_requests
                if request["action"]["type"] == "order"
                for o in request["action"]["orders"]
            ]
        )

    journal, fill_ids = asyncio.run(_stored(database_url, account_id))
    by_client_id = {entry.venue_client_id: entry for entry in journal}
    by_order_id = {o["id"]: o for o in orders}

    # None sent twice: each client id reached the venue once, as one order.
    assert len(sent) == len(set(sent)) == len(at_venue)
    # None lost: every order the venue took is journalled, resolved and filled here.
    for taken in at_venue:
        entry = by_client_id[taken.cloid.removeprefix("0x")]
        assert entry.submit_state == "submitted", entry.reason
        assert entry.venue_order_id == str(taken.oid)
        order = by_order_id[entry.order_id]
        assert (order["status"], D(str(order["filled_quantity"]))) == ("filled", taken.orig_sz)
    hung_entry = by_client_id[hung.cloid.removeprefix("0x")]
    assert any(
        e["kind"] == "order_resolved" and e["order_id"] == hung_entry.order_id for e in events
    ), events
    # A journalled order the venue never saw is still being asked about (its grace period
    # has not run out), never sent again and without fills.
    venue_ids = {t.cloid.removeprefix("0x") for t in at_venue}
    for entry in journal:
        if entry.venue_client_id not in venue_ids:
            assert entry.submit_state in ("pending_submit", "unknown"), entry.reason
            assert by_order_id[entry.order_id]["filled_quantity"] == 0
    # Every answer the API gave before the kill stands.
    for outcome in reported:
        assert by_order_id[outcome["order_id"]]["status"] == "filled"
    # Fills ingested exactly once: the ledger holds the venue's fills, each once.
    assert sorted(fill_ids) == sorted(str(f["tid"]) for f in venue_fills)
    assert len(trades) == len(venue_fills)
    # The positions are the venue's.
    (position,) = positions
    assert D(str(position["size"])) == venue_position == D(SIZE) * len(at_venue)
    assert not any(e["kind"] == "position_mismatch" for e in events), events
