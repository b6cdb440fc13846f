"""A real `hyperoru serve` process trading live on a loopback venue fake (Hyperliquid, and
Binance USDⓈ-M futures) is killed with SIGKILL in the middle of an order burst, then
restarted on the same database: after the start-up reconciliation every order the venue
took is in the journal and resolved, no order reached the venue twice, every venue fill is
in the ledger exactly once, and the positions the API answers are the venue's.

One body proves it for every venue; what differs (opening an account, making one accepted
order hang, reading the venue's orders, fills and position) is behind a small ``Venue``.

The kill is made to land at the worst moment on purpose: the venue accepts an order and
its answer never comes (the fake hangs that connection), so the server dies holding an
order it sent and never learnt the outcome of. Around it, four clients keep ordering.

The user, the trader and its credentials are set up by an in-process app on the same
database (two-factor codes need a clock the test moves); the server process then starts
with the same secret key and data directory, so it unseals the same credentials.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
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
from tests.fakes.binance_venue import FakeBinanceFutures, Fault, fake_binance_futures
from tests.fakes.hyperliquid_venue import FakeHyperliquid, fake_hyperliquid
from tests.fakes.threaded import ThreadedFake, in_thread
from tests.helpers import Api
from tests.live.wallets import binance_key, hyperliquid_wallet

D = Decimal
WORKERS = 4
BEFORE_THE_HANG = 12  # orders answered before the hanging one is let through
WAIT_SECONDS = 60  # a bound on waiting for a condition, never a timing assertion


def _wall_clock() -> Clock:
    """A two-factor clock at the wall's current step: the credential check signs a venue
    request with it, and the fake keeps nonces near its (wall) block time."""
    now = datetime.now(UTC)
    step_start = totp.time_step(now) * totp.STEP_SECONDS
    return Clock(now=datetime.fromtimestamp(step_start, UTC))


async def _prepare(settings: Settings, credentials: dict[str, Any]) -> tuple[str, int]:
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
            json={**credentials, "totp_code": clock.code(user.secret)},
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
def _server(
    tmp_path: Path, database_url: str, venue_url: dict[str, str]
) -> Iterator[RunningServer]:
    env = {
        "HYPERORU_DATABASE_URL": database_url,
        "HYPERORU_SECRET_KEY": TEST_SECRET_KEY,
        "HYPERORU_LIVE_TRADING": "enabled",
        **venue_url,
        "HYPERORU_RUNTIME": "off",  # the burst is the only source of orders
    }
    # Start-up migrates (PostgreSQL) and may be slow on a loaded machine; a hang still fails.
    with serve(tmp_path / "data", env, start_seconds=LIFESPAN_SECONDS) as server:
        yield server


def _trade(
    client: httpx.Client, headers: dict[str, str], account_id: int, size: str
) -> dict[str, Any]:
    order = {
        "account_id": account_id,
        "symbol": "BTC",
        "side": "buy",
        "order_type": "market",
        "quantity": float(size),
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


@dataclass(frozen=True)
class Taken:
    """An order the venue took, in the venue's own terms."""

    client_id: str  # as the journal spells it
    venue_order_id: str
    size: Decimal
    filled: bool


@dataclass(frozen=True)
class Seen:
    """What the venue holds after the run, read once its fake is done with."""

    orders: list[Taken]
    sent_client_ids: list[str]  # one per order request that reached it
    fill_ids: list[str]  # as the ledger spells them
    position: Decimal


class Venue:
    """What differs between venues; the proof itself is the same for all."""

    name: str
    size: str  # one order's quantity of BTC, above the venue's minimum notional
    settings_field: str
    env_var: str
    account: str = ""  # the venue's key for the account, set by ``open``

    def fake(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    def open(self, venue: Any) -> dict[str, Any]:
        """An account with plenty of margin and a BTC price; the trader's credentials."""
        raise NotImplementedError

    def catch_up(self, fake: ThreadedFake[Any]) -> None:
        """Bring the fake's clock to the wall's, where the server's clock is."""

    def hang_next_order(self, venue: Any) -> None:
        raise NotImplementedError

    def hang_taken(self, venue: Any) -> bool:
        raise NotImplementedError

    def seen(self, venue: Any) -> Seen:
        raise NotImplementedError


class Hyperliquid(Venue):
    name = "hyperliquid"
    size = "0.0002"  # $20 at the fake's mid: above the venue's $10 minimum
    settings_field = "hyperliquid_base_url"
    env_var = "HYPERORU_HYPERLIQUID_BASE_URL"

    def fake(self) -> AbstractAsyncContextManager[FakeHyperliquid]:
        return fake_hyperliquid()

    def open(self, venue: FakeHyperliquid) -> dict[str, Any]:
        self.account, credentials = hyperliquid_wallet(venue, D(1_000_000))
        venue.set_mid("BTC", "100000")
        return credentials

    def catch_up(self, fake: ThreadedFake[Any]) -> None:
        # The fake's clock stands still unless moved; the server's nonces and ingest
        # cursors are at the wall's time.
        fake.call(lambda v: v.advance_clock(max(0.0, time.time() - v.now_ms / 1000)), fake.venue)

    def hang_next_order(self, venue: FakeHyperliquid) -> None:
        venue.faults.after_accept = "hang"

    def hang_taken(self, venue: FakeHyperliquid) -> bool:
        return venue.faults.after_accept is None

    def seen(self, venue: FakeHyperliquid) -> Seen:
        return Seen(
            orders=[
                # An order without a client id matches no journal entry: the proof fails.
                Taken(
                    (o.cloid or "").removeprefix("0x"), str(o.oid), o.orig_sz, o.status == "filled"
                )
                for o in venue.orders_of(self.account)
            ],
            sent_client_ids=[
                o["c"].removeprefix("0x")
                for request in venue.exchange_requests
                if request["action"]["type"] == "order"
                for o in request["action"]["orders"]
            ],
            fill_ids=[str(f["tid"]) for f in venue.accounts[self.account.lower()].fills],
            position=venue.position(self.account, "BTC"),
        )


class Binance(Venue):
    name = "binance"
    # Above the $100 BTCUSDT minimum both at the fake's mark and at the server's own
    # (simulated) price, which it checks the minimum against before sending.
    size = "0.002"
    settings_field = "binance_futures_base_url"
    env_var = "HYPERORU_BINANCE_FUTURES_BASE_URL"

    def fake(self) -> AbstractAsyncContextManager[FakeBinanceFutures]:
        return fake_binance_futures(wall_clock=True)  # the server signs with the wall's time

    def open(self, venue: FakeBinanceFutures) -> dict[str, Any]:
        self.account, credentials = binance_key(venue, D(1_000_000))
        venue.set_mark("BTC", "100000")
        return credentials

    def hang_next_order(self, venue: FakeBinanceFutures) -> None:
        venue.fail_next(Fault("hang"))  # the order is processed, its answer never comes

    def hang_taken(self, venue: FakeBinanceFutures) -> bool:
        return not venue.faults

    def seen(self, venue: FakeBinanceFutures) -> Seen:
        account = venue.account(self.account)
        position = account.positions.get("BTCUSDT")
        return Seen(
            orders=[
                Taken(o.client_id, str(o.order_id), o.qty, o.status == "FILLED")
                for o in sorted(account.orders.values(), key=lambda o: o.order_id)
            ],
            sent_client_ids=[
                r.params["newClientOrderId"] for r in venue.requests_to("/fapi/v1/order", "POST")
            ],
            fill_ids=[f"{t['symbol']}-{t['id']}" for t in account.trades],
            position=position.amt if position is not None else D(0),
        )


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


@pytest.mark.parametrize("case", [Hyperliquid, Binance], ids=lambda c: c.name)
def test_a_killed_live_server_loses_and_doubles_nothing(
    case: type[Venue], tmp_path: Path, database_url: str, make_settings: Callable[..., Settings]
) -> None:
    adapter = case()
    size = adapter.size
    with in_thread(adapter.fake) as fake:
        venue = fake.venue
        credentials = fake.call(adapter.open, venue)
        settings = make_settings(live_trading="enabled", **{adapter.settings_field: venue.base_url})
        venue_url = {adapter.env_var: venue.base_url}
        token, account_id = asyncio.run(_prepare(settings, credentials))
        headers = {"Authorization": f"Bearer {token}"}
        adapter.catch_up(fake)
        reported: list[dict[str, Any]] = []  # what the API answered before the kill
        failures: list[BaseException] = []
        lock, killing = threading.Lock(), threading.Event()
        with _server(tmp_path, database_url, venue_url) as server:

            def keep_trading() -> None:
                with httpx.Client(base_url=server.base_url, timeout=30) as client:
                    while True:
                        try:
                            outcome = _trade(client, headers, account_id, size)
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
            fake.call(adapter.hang_next_order, venue)
            _wait_for(
                lambda: fake.call(adapter.hang_taken, venue) or bool(failures),
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
        hung = fake.call(adapter.seen, venue).orders[-1]
        assert hung.filled  # the venue filled it; the server never heard

        adapter.catch_up(fake)
        with (
            _server(tmp_path, database_url, venue_url) as server,
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
            after = _trade(client, headers, account_id, size)
            assert after["execution_status"] == "filled", after
            orders = client.get(
                f"/api/orders/account/{account_id}", params={"limit": 1000}, headers=headers
            ).json()
            trades = client.get(
                f"/api/account/{account_id}/trades", params={"limit": 1000}, headers=headers
            ).json()
            positions = client.get(f"/api/account/{account_id}/positions", headers=headers).json()
            events = client.get(f"/api/account/{account_id}/reconciliation", headers=headers).json()

        seen = fake.call(adapter.seen, venue)
    journal, fill_ids = asyncio.run(_stored(database_url, account_id))
    by_client_id = {entry.venue_client_id: entry for entry in journal}
    by_order_id = {o["id"]: o for o in orders}

    at_venue = seen.orders
    # None sent twice: each client id reached the venue once, as one order.
    sent = seen.sent_client_ids
    assert len(sent) == len(set(sent)) == len(at_venue)
    # None lost: every order the venue took is journalled, resolved and filled here.
    for taken in at_venue:
        assert taken.filled
        entry = by_client_id[taken.client_id]
        assert entry.submit_state == "submitted", entry.reason
        assert entry.venue_order_id == taken.venue_order_id
        order = by_order_id[entry.order_id]
        assert (order["status"], D(str(order["filled_quantity"]))) == ("filled", taken.size)
    hung_entry = by_client_id[hung.client_id]
    assert any(
        e["kind"] == "order_resolved" and e["order_id"] == hung_entry.order_id for e in events
    ), events
    # A journalled order the venue never saw is still being asked about (its grace period
    # has not run out), never sent again and without fills.
    venue_ids = {t.client_id for t in at_venue}
    for entry in journal:
        if entry.venue_client_id not in venue_ids:
            assert entry.submit_state in ("pending_submit", "unknown"), entry.reason
            assert by_order_id[entry.order_id]["filled_quantity"] == 0
    # Every answer the API gave before the kill stands.
    for outcome in reported:
        assert by_order_id[outcome["order_id"]]["status"] == "filled"
    # Fills ingested exactly once: the ledger holds the venue's fills, each once.
    assert sorted(fill_ids) == sorted(seen.fill_ids)
    assert len(trades) == len(seen.fill_ids)
    # The positions are the venue's.
    (position,) = positions
    assert D(str(position["size"])) == seen.position == D(size) * len(at_venue)
    assert not any(e["kind"] == "position_mismatch" for e in events), events
