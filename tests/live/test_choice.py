"""The per-trader choice of client (``trading.execution``): a live trader's orders, reads
and decisions go to its venue, a paper trader's stay on paper, and a live trader that
cannot reach its venue gets the contract's error shape, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from fastapi import FastAPI

from hyperoru.app import create_app, replace_services
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.paper_client import PaperExchange
from tests.conftest import asgi_client, running
from tests.helpers import Api, assert_error
from tests.live.helpers import live_trader
from tests.live.venue_double import VenueDouble
from tests.strategies.fake_llm import FakeLlm, Reply, completion
from tests.trading.helpers import new_trader

D = Decimal


@pytest.mark.usefixtures("connected")
async def test_orders_go_where_the_trader_executes(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    exchanges = app.state.services.trading.exchanges
    live = await live_trader(app, api)
    paper = await new_trader(api)
    assert isinstance(await exchanges.for_trader(live.id), LiveExchange)
    assert isinstance(await exchanges.for_trader(paper.id), PaperExchange)
    sent = await live.trade(side="buy", quantity="0.01")
    assert sent["execution_status"] == "filled"
    assert [o.quantity for o in venue.submitted] == [D("0.01")]
    on_paper = await paper.trade(side="buy", quantity="0.01")
    assert on_paper["execution_status"] == "filled"
    assert len(venue.submitted) == 1
    # Reads of the live trader come from the venue's reading.
    (position,) = await live.get(f"/api/account/{live.id}/positions")
    assert (position["symbol"], position["size"]) == ("BTC", 0.01)
    state = await live.get(f"/api/hyperliquid/account/{live.id}/state")
    assert state["balance_total"] == float(venue.cash)
    trades = await live.get(f"/api/account/{live.id}/trades")
    assert [t["quantity"] for t in trades] == [0.01]


@pytest.mark.usefixtures("connected")
async def test_a_live_trader_without_credentials_gets_a_clear_409(app: FastAPI, api: Api) -> None:
    trader = await live_trader(app, api, credentials=False)
    created = await trader.create(side="buy", quantity="0.01")
    response = await trader.execute(created.json()["id"])
    assert_error(response, 409, "EXCHANGE_CREDENTIALS_MISSING")


@pytest.mark.usefixtures("connected")
async def test_a_live_trader_whose_venue_is_down_gets_a_503(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    venue.down = True
    created = await trader.create(side="buy", quantity="0.01")
    body = assert_error(await trader.execute(created.json()["id"]), 503, "VENUE_UNAVAILABLE")
    assert body["details"]["venue_code"] == "VENUE_UNAVAILABLE"
    response = await api.client.get(f"/api/account/{trader.id}/positions", headers=trader.headers)
    assert_error(response, 503, "VENUE_UNAVAILABLE")
    assert venue.submitted == []


@pytest.mark.usefixtures("connected")
async def test_a_limit_refuses_over_http_and_rejects_the_order(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api, max_order_notional=D(100))
    created = await trader.create(side="buy", quantity="0.01")
    response = await trader.execute(created.json()["id"])
    assert_error(response, 422, "ORDER_NOTIONAL_TOO_HIGH")
    (order,) = await trader.get(f"/api/orders/account/{trader.id}")
    assert (order["status"], order["reject_code"]) == ("rejected", "ORDER_NOTIONAL_TOO_HIGH")
    assert venue.submitted == []


@pytest.fixture
async def llm_app(make_settings: Callable[..., Settings], llm: FakeLlm) -> AsyncIterator[FastAPI]:
    """The simulated market (prompts read hourly candles) and the wall clock."""
    application = create_app(make_settings(llm_allowed_hosts=f"127.0.0.1:{llm.port}"))
    application.state.trading_monitor_seconds = None
    async with running(application):
        assert await application.state.services.market.cache.refresh()
        yield application


async def test_a_live_traders_decision_is_placed_at_its_venue(
    llm_app: FastAPI, llm: FakeLlm
) -> None:
    venue = VenueDouble(clock=utcnow)
    replace_services(llm_app, venues=lambda credentials: venue)
    async with asgi_client(llm_app) as client:
        api = Api(client)
        trader = await live_trader(
            llm_app, api, llm_provider="openai", llm_model="fake", llm_base_url=llm.base_url
        )
        response = await client.put(
            f"/api/account/{trader.id}/strategy", json={"symbols": ["BTC"]}, headers=trader.headers
        )
        assert response.status_code == 200, response.text
        decision = {"operation": "long", "symbol": "BTC", "leverage": 2, "size_pct": 10}
        llm.queue(Reply(body=completion(json.dumps(decision))))
        response = await client.post(f"/api/account/{trader.id}/trigger", headers=trader.headers)
        assert response.status_code == 200, response.text
        (outcome,) = response.json()["outcomes"]
    assert outcome["execution_status"] == "filled", outcome
    (sent,) = venue.submitted
    assert (sent.symbol, sent.side, sent.order_type) == ("BTC", "buy", "market")
    assert venue.positions["BTC"].size == sent.quantity
