"""Never lose or double an order: the journal row is committed before the venue is asked,
an unknown outcome is resolved by asking for our client id (never by sending again), and
a crash anywhere in between is resolved by reconciliation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.exchanges.base import OrderIntent
from hyperoru.exchanges.venue import VenueError
from hyperoru.trading.live.models import LiveOrder, ReconciliationEvent
from hyperoru.trading.live.reconcile import reconcile
from hyperoru.trading.models import TradingFill, TradingOrder
from tests.helpers import Api
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import SimulatedCrash, VenueDouble
from tests.trading.market import TestClock

D = Decimal
BUY = OrderIntent(symbol="BTC", side="buy", order_type="market", quantity=D("0.01"))


async def _rows(app: FastAPI, account_id: int) -> list[tuple[LiveOrder, TradingOrder]]:
    async with app.state.services.sessionmaker() as session:
        rows = await session.execute(
            select(LiveOrder, TradingOrder)
            .join(TradingOrder, TradingOrder.id == LiveOrder.order_id)
            .where(LiveOrder.account_id == account_id)
            .order_by(LiveOrder.order_id)
        )
        return [(entry, order) for entry, order in rows]


async def _fills(app: FastAPI, account_id: int) -> list[TradingFill]:
    async with app.state.services.sessionmaker() as session:
        rows = await session.scalars(
            select(TradingFill).where(TradingFill.account_id == account_id)
        )
        return list(rows.all())


async def _events(app: FastAPI, account_id: int) -> list[str]:
    async with app.state.services.sessionmaker() as session:
        rows = await session.scalars(
            select(ReconciliationEvent.kind)
            .where(ReconciliationEvent.account_id == account_id)
            .order_by(ReconciliationEvent.id)
        )
        return list(rows.all())


@pytest.mark.usefixtures("connected")
async def test_a_filled_order_is_journalled_sent_once_and_ledgered(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    engine = app.state.services.engine

    def no_connection_held() -> None:
        # Every venue call happens with the pool's connections all given back.
        assert engine.pool.checkedout() == 0

    venue.probe = no_connection_held
    report = await live_client(app).place(account_id=trader.id, intent=BUY)
    assert report.execution_status == "filled"
    ((entry, order),) = await _rows(app, trader.id)
    assert len(entry.venue_client_id) == 32 and int(entry.venue_client_id, 16) >= 0
    assert [o.client_order_id for o in venue.submitted] == [entry.venue_client_id]
    assert (entry.submit_state, order.status, order.filled_quantity) == (
        "submitted", "filled", D("0.01")
    )  # fmt: skip
    assert order.average_price == D(50000)
    (fill,) = await _fills(app, trader.id)
    assert (fill.order_id, fill.price, fill.quantity, fill.fee) == (
        order.id, D(50000), D("0.01"), D("0.225000")
    )  # fmt: skip
    assert [f.id for f in report.fills] == [fill.id]
    # The position comes from the venue's reading.
    (position,) = await live_client(app).positions(account_id=trader.id)
    assert (position.symbol, position.side, position.size) == ("BTC", "long", D("0.01"))


@pytest.mark.usefixtures("connected")
async def test_a_crash_between_commit_and_send_is_found_and_closed_by_reconcile(
    app: FastAPI, api: Api, venue: VenueDouble, clock: TestClock
) -> None:
    trader = await live_trader(app, api)
    venue.submit_fault = "crash_before_send"
    with pytest.raises(SimulatedCrash):
        await live_client(app).place(account_id=trader.id, intent=BUY)
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status) == ("pending_submit", "pending")
    assert venue.submitted == []
    # Within the grace period nothing is concluded (the venue may still be indexing it).
    await reconcile(live_client(app), trader.id)
    ((entry, order),) = await _rows(app, trader.id)
    assert entry.submit_state == "pending_submit"
    clock.now += timedelta(minutes=2)
    await reconcile(live_client(app), trader.id)
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status, order.reject_code) == (
        "rejected", "rejected", "ORDER_NEVER_ARRIVED"
    )  # fmt: skip
    assert venue.submitted == []  # never sent again
    assert "order_never_arrived" in await _events(app, trader.id)


@pytest.mark.usefixtures("connected")
async def test_a_crash_after_the_venue_took_the_order_is_resolved_without_resending(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.submit_fault = "crash_after_accept"
    with pytest.raises(SimulatedCrash):
        await live_client(app).place(account_id=trader.id, intent=BUY)
    ((entry, order),) = await _rows(app, trader.id)
    assert entry.submit_state == "pending_submit"
    found = await reconcile(live_client(app), trader.id)
    assert found.events["order_resolved"] == 1 and found.events["missed_fills"] == 1
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status, order.filled_quantity) == (
        "submitted", "filled", D("0.01")
    )  # fmt: skip
    assert len(venue.submitted) == 1
    assert [f.order_id for f in await _fills(app, trader.id)] == [order.id]


@pytest.mark.usefixtures("connected")
async def test_an_unknown_outcome_is_resolved_by_asking_never_by_resending(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.submit_fault = "unknown_after_accept"
    report = await live_client(app).place(account_id=trader.id, intent=BUY)
    assert report.execution_status == "filled"
    assert len(venue.submitted) == 1
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status) == ("submitted", "filled")
    assert len(await _fills(app, trader.id)) == 1
    # Reconciliation finds nothing left to do, and still sends nothing.
    found = await reconcile(live_client(app), trader.id)
    assert found.events == {}
    assert len(venue.submitted) == 1


@pytest.mark.usefixtures("connected")
async def test_an_order_the_venue_never_saw_stays_unknown_then_is_rejected(
    app: FastAPI, api: Api, venue: VenueDouble, clock: TestClock
) -> None:
    trader = await live_trader(app, api)
    venue.submit_fault = "unknown_before_accept"
    report = await live_client(app).place(account_id=trader.id, intent=BUY)
    assert report.execution_status == "open" and report.message
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status) == ("unknown", "pending")
    # A second execute of the same order is refused: it was sent once already.
    with pytest.raises(Exception) as refused:
        await live_client(app).execute(account_id=trader.id, order_id=order.id)
    assert getattr(refused.value, "code", None) == "ORDER_NOT_PENDING"
    clock.now += timedelta(minutes=2)
    await reconcile(live_client(app), trader.id)
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status) == ("rejected", "rejected")
    assert len(venue.submitted) == 1


@pytest.mark.usefixtures("connected")
async def test_a_venue_refusal_rejects_the_order_with_our_code(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.reject_next = VenueError(
        "VENUE_INSUFFICIENT_MARGIN", "Insufficient margin to place order."
    )
    report = await live_client(app).place(account_id=trader.id, intent=BUY)
    assert (report.execution_status, report.reject_code) == ("rejected", "INSUFFICIENT_MARGIN")
    ((entry, order),) = await _rows(app, trader.id)
    assert (entry.submit_state, order.status) == ("rejected", "rejected")
    assert order.status_reason == "Insufficient margin to place order."


@pytest.mark.usefixtures("connected")
async def test_a_partial_fill_leaves_the_order_partially_filled(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.partial_fill = D("0.5")
    report = await live_client(app).place(account_id=trader.id, intent=BUY)
    assert report.execution_status == "partially_filled"
    ((_, order),) = await _rows(app, trader.id)
    assert (order.status, order.filled_quantity) == ("partially_filled", D("0.005"))
    assert [f.quantity for f in report.fills] == [D("0.005")]


@pytest.mark.usefixtures("connected")
async def test_a_failed_fills_read_after_sending_still_answers_the_order(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    await live_client(app).sync(trader.id, user_id=trader.user["id"])  # the first reading
    venue.fail_next_fills = True
    report = await live_client(app).place(account_id=trader.id, intent=BUY)
    # The venue's answer made the order filled; its fills come with the next read.
    assert (report.execution_status, report.fills) == ("filled", ())
    await live_client(app).sync(trader.id, user_id=trader.user["id"])
    assert len(await _fills(app, trader.id)) == 1
    assert len(venue.submitted) == 1
