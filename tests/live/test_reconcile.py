"""Reconciliation: each kind of difference with the venue becomes one event the owner
reads (GET /api/account/{id}/reconciliation); nothing is adopted or overwritten silently."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.exchanges.base import OrderIntent
from hyperoru.trading.live.reconcile import reconcile
from hyperoru.trading.models import TradingOrder
from tests.helpers import Api, assert_error
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import VenueDouble, _Position
from tests.trading.helpers import Trader

D = Decimal
RESTING = OrderIntent(symbol="ETH", side="buy", order_type="limit", quantity=D(1), price=D(2900))


async def _order(app: FastAPI, order_id: int) -> TradingOrder:
    async with app.state.services.sessionmaker() as session:
        order = await session.scalar(select(TradingOrder).where(TradingOrder.id == order_id))
        assert order is not None
        return order


async def _events(trader: Trader, **params: int) -> list[dict[str, object]]:
    return await trader.get(f"/api/account/{trader.id}/reconciliation", **params)  # type: ignore[no-any-return]


@pytest.mark.usefixtures("connected")
async def test_an_order_placed_at_the_venue_by_hand_is_reported_once_never_adopted(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    stranger = venue.external_order("BTC", D("0.01"), D(40000))
    first = await reconcile(live_client(app), trader.id)
    second = await reconcile(live_client(app), trader.id)
    assert first.events == {"external_order": 1} and second.events == {}
    (event,) = await _events(trader)
    assert event["kind"] == "external_order"
    assert event["details"]["venue_order_id"] == stranger.venue_order_id  # type: ignore[index]
    orders = await trader.get(f"/api/orders/account/{trader.id}")
    assert orders == []  # not adopted as one of ours


@pytest.mark.usefixtures("connected")
async def test_an_order_cancelled_behind_our_back_is_updated_and_reported(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    report = await live_client(app).place(account_id=trader.id, intent=RESTING)
    client_id = venue.submitted[0].client_order_id
    venue.orders[client_id] = replace(venue.orders[client_id], status="canceled")
    found = await reconcile(live_client(app), trader.id)
    assert found.events == {"order_missing": 1}
    assert (await _order(app, report.order_id)).status == "cancelled"
    (event,) = await _events(trader)
    assert (event["kind"], event["order_id"]) == ("order_missing", report.order_id)
    assert event["details"] == {
        "before": "open", "after": "cancelled", "client_order_id": client_id
    }  # fmt: skip


@pytest.mark.usefixtures("connected")
async def test_a_fill_we_missed_is_ingested_and_the_order_state_reported(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    report = await live_client(app).place(account_id=trader.id, intent=RESTING)
    client_id = venue.submitted[0].client_order_id
    venue.fill(client_id, D("0.25"), D(2900))  # still open at the venue, partly filled
    found = await reconcile(live_client(app), trader.id)
    assert found.events == {"order_state": 1, "missed_fills": 1}
    order = await _order(app, report.order_id)
    assert (order.status, order.filled_quantity) == ("partially_filled", D("0.25"))
    kinds = [e["kind"] for e in await _events(trader)]
    assert kinds == ["missed_fills", "order_state"]  # newest first
    venue.fill(client_id, D("0.75"), D(2900))  # now filled: no longer listed as open
    found = await reconcile(live_client(app), trader.id)
    assert found.events == {"order_missing": 1, "missed_fills": 1}
    assert (await _order(app, report.order_id)).status == "filled"


@pytest.mark.usefixtures("connected")
async def test_a_position_our_fills_do_not_explain_is_reported_once(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.positions["ETH"] = _Position(size=D(2), entry=D(3000))  # moved outside our fills
    first = await reconcile(live_client(app), trader.id)
    again = await reconcile(live_client(app), trader.id)
    assert first.events == {"position_mismatch": 1} and again.events == {}
    (event,) = await _events(trader)
    assert (event["details"]["venue"], event["details"]["ledger"]) == (2, 0)  # type: ignore[index]


@pytest.mark.usefixtures("connected")
async def test_the_events_are_the_owners_only_and_paged(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    for price in (40000, 41000, 42000):
        venue.external_order("BTC", D("0.01"), D(price))
    await reconcile(live_client(app), trader.id)
    assert len(await _events(trader)) == 3
    page = await _events(trader, limit=2, offset=2)
    assert len(page) == 1
    _, other = await api.user()
    response = await api.client.get(
        f"/api/account/{trader.id}/reconciliation", headers=api.bearer(other)
    )
    assert_error(response, 403, "FORBIDDEN")
