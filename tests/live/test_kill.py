"""The kill switch, per trader and per user, on paper and live traders alike: stop,
cancel every open order, and with ``flatten`` close every position reduce-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.accounts.models import Account
from hyperoru.exchanges.base import OrderIntent
from tests.helpers import Api, assert_error
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import VenueDouble
from tests.trading.helpers import Trader, new_trader

D = Decimal


async def _account(app: FastAPI, account_id: int) -> Account:
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account


async def _kill(trader: Trader, **body: object) -> dict[str, object]:
    response = await trader.api.client.post(
        f"/api/account/{trader.id}/kill", json=body, headers=trader.headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _paper_with_exposure(api: Api) -> Trader:
    trader = await new_trader(api)
    await trader.trade(side="buy", quantity="0.01")
    rest = await trader.trade(
        symbol="ETH", side="buy", order_type="limit", price="2000", quantity="1"
    )
    assert rest["execution_status"] == "open"
    return trader


async def test_kill_stops_a_paper_trader_cancels_and_flattens(app: FastAPI, api: Api) -> None:
    trader = await _paper_with_exposure(api)
    answer = await _kill(trader, flatten=True)
    assert answer == {
        "account_id": trader.id, "execution_mode": "paper", "stopped": True,
        "orders_cancelled": 1, "positions_closed": 1, "errors": [],
    }  # fmt: skip
    account = await _account(app, trader.id)
    assert (account.auto_trading_enabled, account.status) == (False, "paused")
    assert await trader.get(f"/api/account/{trader.id}/positions") == []
    orders = await trader.get(f"/api/orders/account/{trader.id}")
    assert {o["status"] for o in orders} == {"filled", "cancelled"}
    closing = next(o for o in orders if o["name"] == "kill:flatten")
    assert (closing["side"], closing["reduce_only"]) == ("sell", True)


async def test_kill_without_flatten_keeps_positions(app: FastAPI, api: Api) -> None:
    trader = await _paper_with_exposure(api)
    answer = await _kill(trader)  # no body field: flatten is off
    assert (answer["orders_cancelled"], answer["positions_closed"]) == (1, 0)
    assert len(await trader.get(f"/api/account/{trader.id}/positions")) == 1


@pytest.mark.usefixtures("connected")
async def test_kill_a_live_trader_cancels_at_the_venue_and_flattens_reduce_only(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    live = live_client(app)
    await live.place(
        account_id=trader.id,
        intent=OrderIntent(symbol="BTC", side="buy", order_type="market", quantity=D("0.01")),
    )
    resting = await live.place(
        account_id=trader.id,
        intent=OrderIntent(
            symbol="ETH", side="buy", order_type="limit", quantity=D(1), price=D(2900)
        ),
    )
    venue.external_order("BTC", D("0.01"), D(40000))
    answer = await _kill(trader, flatten=True)
    assert (answer["execution_mode"], answer["errors"]) == ("live", [])
    assert (answer["orders_cancelled"], answer["positions_closed"]) == (2, 1)  # ours + external
    assert venue.cancel_all_calls == 1 and await venue.open_orders() == []
    closing = venue.submitted[-1]
    assert (closing.symbol, closing.side, closing.reduce_only) == ("BTC", "sell", True)
    assert venue.positions["BTC"].size == 0
    orders = await trader.get(f"/api/orders/account/{trader.id}")
    assert next(o for o in orders if o["id"] == resting.order_id)["status"] == "cancelled"
    assert (await _account(app, trader.id)).auto_trading_enabled is False


@pytest.mark.usefixtures("connected")
async def test_a_venue_that_is_down_still_leaves_the_trader_stopped(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.down = True
    answer = await _kill(trader, flatten=True)
    assert answer["stopped"] is True
    assert [e.split(":")[0:2] for e in answer["errors"]] == [  # type: ignore[union-attr]
        ["cancel", " VENUE_UNAVAILABLE"], ["positions", " VENUE_UNAVAILABLE"]
    ]  # fmt: skip
    assert (await _account(app, trader.id)).status == "paused"


@pytest.mark.usefixtures("connected")
async def test_user_kill_covers_every_trader_of_the_caller_only(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    paper = await _paper_with_exposure(api)
    other = await new_trader(api)
    response = await api.client.post(
        "/api/users/kill", json={"flatten": True}, headers=paper.headers
    )
    assert response.status_code == 200, response.text
    (report,) = response.json()["traders"]
    assert (report["account_id"], report["orders_cancelled"], report["positions_closed"]) == (
        paper.id, 1, 1
    )  # fmt: skip
    assert (await _account(app, other.id)).auto_trading_enabled is True


async def test_kill_of_another_users_trader_is_forbidden(app: FastAPI, api: Api) -> None:
    trader = await new_trader(api)
    _, stranger = await api.user()
    response = await api.client.post(
        f"/api/account/{trader.id}/kill", json={"flatten": True}, headers=api.bearer(stranger)
    )
    assert_error(response, 403, "FORBIDDEN")
    assert (await _account(app, trader.id)).auto_trading_enabled is True
