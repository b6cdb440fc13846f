"""Venue fills and funding into the ledger tables paper uses, idempotently, with the
events paper publishes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.exchanges.base import OrderIntent
from hyperoru.exchanges.venue import VenueFill, VenueFunding
from hyperoru.realtime.events import PositionEvent, TradeEvent
from hyperoru.trading.live.ingest import ingest_fills
from hyperoru.trading.models import EquitySnapshot, FundingPayment, TradingFill, TradingOrder
from tests.helpers import Api
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import VenueDouble
from tests.trading.market import TestClock

D = Decimal


async def _all(app: FastAPI, model: type, account_id: int) -> list[Any]:
    async with app.state.services.sessionmaker() as session:
        rows = await session.scalars(select(model).where(model.account_id == account_id))  # type: ignore[attr-defined]
        return list(rows.all())


@pytest.mark.usefixtures("connected")
async def test_the_same_fills_ingested_twice_are_stored_once(
    app: FastAPI, api: Api, venue: VenueDouble, clock: TestClock
) -> None:
    trader = await live_trader(app, api)
    live = live_client(app)
    intent = OrderIntent(
        symbol="ETH", side="sell", order_type="limit", quantity=D(1), price=D(3100)
    )
    placed = await live.place(account_id=trader.id, intent=intent)
    assert placed.execution_status == "open" and placed.fills == ()
    (order,) = await _all(app, TradingOrder, trader.id)
    client_id = venue.submitted[0].client_order_id
    venue.fill(client_id, D("0.4"), D(3100))
    venue.fill(client_id, D("0.6"), D(3105))
    for _ in range(3):  # every sync re-reads from its cursor: the venue repeats the fills
        await live.sync(trader.id, user_id=trader.user["id"])
    fills = await _all(app, TradingFill, trader.id)
    assert sorted((f.quantity, f.price, f.order_id) for f in fills) == [
        (D("0.4"), D(3100), order.id), (D("0.6"), D(3105), order.id)
    ]  # fmt: skip
    assert len({f.fill_id for f in fills}) == 2
    (order,) = await _all(app, TradingOrder, trader.id)
    assert (order.status, order.filled_quantity, order.average_price) == (
        "filled", D(1), D(3103)
    )  # fmt: skip
    # Straight into the ingest: one batch with a duplicate inside, then again.
    again = venue.fill_log[-1]
    async with app.state.services.sessionmaker() as session:
        assert await ingest_fills(session, account_id=trader.id, fills=[again, again]) == []
    assert len(await _all(app, TradingFill, trader.id)) == 2


@pytest.mark.usefixtures("connected")
async def test_fills_of_orders_we_did_not_send_are_stored_without_an_order(
    app: FastAPI, api: Api, clock: TestClock
) -> None:
    trader = await live_trader(app, api)
    stranger = VenueFill(
        venue_fill_id="x1", venue_order_id="77", client_order_id=None, symbol="BTC",
        side="buy", price=D(50000), quantity=D("0.002"), fee=D("0.05"), realized_pnl=D(0),
        liquidity="taker", is_liquidation=False, time=clock.now,
    )  # fmt: skip
    async with app.state.services.sessionmaker() as session:
        (row,) = await ingest_fills(session, account_id=trader.id, fills=[stranger])
        await session.commit()
    assert (row.order_id, row.engine_order_id, row.venue_fill_id) == (None, "venue:77", "x1")


@pytest.mark.usefixtures("connected")
async def test_funding_is_ingested_once_with_the_ledgers_sign(
    app: FastAPI, api: Api, venue: VenueDouble, clock: TestClock
) -> None:
    trader = await live_trader(app, api)
    venue.funding_log.append(
        VenueFunding(
            symbol="BTC",
            time=clock.now,
            position_size=D("0.1"),
            rate=D("0.0001"),
            payment=D("-0.5"),
        )
    )
    live = live_client(app)
    await live.sync(trader.id, user_id=trader.user["id"])
    await live.sync(trader.id, user_id=trader.user["id"])
    (paid,) = await _all(app, FundingPayment, trader.id)
    # The venue's -0.5 (paid by the trader) is the ledger's +0.5; the mark it implies is 50000.
    assert (paid.payment, paid.mark_price) == (D("0.5"), D(50000))


@pytest.mark.usefixtures("connected")
async def test_fills_positions_and_the_curve_are_published_after_commit(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    events: list[Any] = []
    app.state.services.bus.subscribe(events.append)
    intent = OrderIntent(symbol="BTC", side="buy", order_type="market", quantity=D("0.01"))
    report = await live_client(app).place(account_id=trader.id, intent=intent)
    trades = [e for e in events if isinstance(e, TradeEvent)]
    positions = [e for e in events if isinstance(e, PositionEvent)]
    assert [t.data["id"] for t in trades] == [report.fills[0].id]
    assert [(p.data["symbol"], p.data["size"], p.data["previous_size"]) for p in positions] == [
        ("BTC", 0.01, 0.0)
    ]
    assert all(e.user_id == trader.user["id"] for e in trades + positions)
    # The asset curve has this minute's point from the venue's equity.
    (point,) = await _all(app, EquitySnapshot, trader.id)
    assert point.equity == venue.cash  # no unrealised PnL at the fill price


@pytest.mark.usefixtures("connected")
async def test_concurrent_ingests_of_one_trader_store_and_publish_each_fill_once(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    """Reads (a first reading), other processes and the order path may ingest one trader
    at once; the one that loses the race for the rows stores its batch again."""
    trader = await live_trader(app, api)
    live = live_client(app)
    intent = OrderIntent(
        symbol="ETH", side="sell", order_type="limit", quantity=D(1), price=D(3100)
    )
    await live.place(account_id=trader.id, intent=intent)
    client_id = venue.submitted[0].client_order_id
    for _ in range(4):
        venue.fill(client_id, D("0.25"), D(3100))
    events: list[Any] = []
    app.state.services.bus.subscribe(events.append)
    await asyncio.gather(*(live.sync(trader.id, user_id=trader.user["id"]) for _ in range(4)))
    fills = await _all(app, TradingFill, trader.id)
    assert len(fills) == len({f.venue_fill_id for f in fills}) == 4
    assert sorted(f.fill_id for f in fills) == [1, 2, 3, 4]
    published = [e.data["id"] for e in events if isinstance(e, TradeEvent)]
    assert sorted(published) == sorted(f.id for f in fills)
