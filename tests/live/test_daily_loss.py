"""The daily-loss limit: a live trader whose loss since 00:00 UTC reaches
``max_daily_loss`` is paused, closed out when ``flatten_on_daily_loss``, and sends no new
exposure until the next UTC day."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError
from hyperoru.exchanges.base import OrderIntent
from tests.helpers import Api
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import VenueDouble
from tests.trading.market import ScriptedMarket, TestClock

D = Decimal
BUY = OrderIntent(symbol="BTC", side="buy", order_type="market", quantity=D("0.1"))


async def _account(app: FastAPI, account_id: int) -> Account:
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account


@pytest.mark.usefixtures("connected")
async def test_a_breach_pauses_and_flattens_through_the_journal(
    app: FastAPI, api: Api, venue: VenueDouble, market: ScriptedMarket, clock: TestClock
) -> None:
    trader = await live_trader(app, api, max_daily_loss=D(100), flatten_on_daily_loss=True)
    live = live_client(app)
    assert (await live.place(account_id=trader.id, intent=BUY)).execution_status == "filled"
    venue.prices["BTC"] = D(48000)
    await market.set("BTC", 48000)
    await app.state.services.trading.live_monitor.tick()
    account = await _account(app, trader.id)
    assert account.status == "error" and "max_daily_loss" in (account.status_reason or "")
    closing = venue.submitted[-1]
    assert (closing.side, closing.quantity, closing.reduce_only) == ("sell", D("0.1"), True)
    assert venue.positions["BTC"].size == 0
    assert await live.positions(account_id=trader.id) == []
    events = await trader.get(f"/api/account/{trader.id}/reconciliation")
    assert [e["kind"] for e in events][:1] == ["daily_loss"]
    # No new exposure today; reduce-only would still pass.
    with pytest.raises(ApiError) as refused:
        await live.place(account_id=trader.id, intent=BUY)
    assert (refused.value.status, refused.value.code) == (422, "DAILY_LOSS_LIMIT")
    assert len(venue.submitted) == 2
    # A new UTC day starts a new baseline.
    clock.now += timedelta(days=1)
    await live.sync(trader.id, user_id=trader.user["id"])
    again = await live.place(account_id=trader.id, intent=BUY)
    assert again.execution_status == "filled"


@pytest.mark.usefixtures("connected")
async def test_without_flatten_the_trader_is_only_paused(
    app: FastAPI, api: Api, venue: VenueDouble, market: ScriptedMarket
) -> None:
    trader = await live_trader(app, api, max_daily_loss=D(100))
    live = live_client(app)
    await live.place(account_id=trader.id, intent=BUY)
    venue.prices["BTC"] = D(48000)
    assert not await live.enforce_daily_loss(trader.id)  # the stored reading is before the fall
    await live.sync(trader.id, user_id=trader.user["id"])
    assert await live.enforce_daily_loss(trader.id)
    assert (await _account(app, trader.id)).status == "error"
    assert len(venue.submitted) == 1
    assert venue.positions["BTC"].size == D("0.1")
    assert not await live.enforce_daily_loss(trader.id)  # paused once, not again


@pytest.mark.usefixtures("connected")
async def test_the_monitor_refreshes_between_reconciliations_and_catches_a_breach(
    app: FastAPI, api: Api, venue: VenueDouble, clock: TestClock
) -> None:
    trader = await live_trader(app, api, max_daily_loss=D(100))
    monitor = app.state.services.trading.live_monitor
    await live_client(app).place(account_id=trader.id, intent=BUY)
    await monitor.tick()  # the start-up reconciliation
    venue.prices["BTC"] = D(48000)
    clock.now += timedelta(seconds=10)
    await monitor.tick()  # too soon for a refresh: the stored reading is unchanged
    assert (await _account(app, trader.id)).status == "active"
    clock.now += timedelta(seconds=25)
    await monitor.tick()
    assert (await _account(app, trader.id)).status == "error"
    (position,) = await live_client(app).positions(account_id=trader.id)
    assert position.mark_price == D(48000)
