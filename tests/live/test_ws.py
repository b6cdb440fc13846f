"""/ws ``place_order`` and ``get_snapshot`` of a live trader go to its venue, and its
orders, fills and reconciliation events are pushed, on a real server with a real
WebSocket client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hyperoru.app import replace_services
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from hyperoru.trading.live.reconcile import reconcile
from tests.live.helpers import live_client, live_trader
from tests.live.venue_double import VenueDouble
from tests.realtime.conftest import (
    FAST_LIMITS,
    LiveServer,
    ask,
    open_socket,
    receive,
    run_server,
    ws_settings,  # noqa: F401 (fixture)
)
from tests.realtime.conftest import live as server  # noqa: F401 (fixture)


async def test_place_order_over_the_socket_reaches_the_venue(server: LiveServer) -> None:  # noqa: F811
    venue = VenueDouble(clock=utcnow)
    replace_services(server.app, venues=lambda credentials: venue)
    trader = await live_trader(server.app, server.api)
    async with open_socket(server, trader.token) as ws:
        placed = await ask(
            ws,
            {
                "type": "place_order",
                "request_id": "o1",
                "data": {
                    "account_id": trader.id,
                    "symbol": "BTC",
                    "side": "buy",
                    "order_type": "market",
                    "quantity": 0.01,
                },
            },
        )
        assert placed["type"] == "order_placed", placed
        assert placed["data"]["execution"]["execution_status"] == "filled"
        snapshot = await ask(
            ws, {"type": "get_snapshot", "request_id": "s1", "data": {"account_id": trader.id}}
        )
        assert snapshot["data"]["equity"] == float(venue.cash)
        (position,) = snapshot["data"]["positions"]
        assert (position["symbol"], position["size"]) == ("BTC", 0.01)
    assert [o.quantity for o in venue.submitted] == [Decimal("0.01")]


async def test_live_orders_fills_and_reconciliation_reach_the_owners_socket(
    ws_settings: Settings,  # noqa: F811
) -> None:
    """A resting live order, its fill found by reconciliation and what reconciliation
    recorded arrive as pushes, in the shapes the REST routes answer."""
    async with run_server(ws_settings, FAST_LIMITS, background=False) as running:
        venue = VenueDouble(clock=utcnow)
        replace_services(running.app, venues=lambda credentials: venue)
        trader = await live_trader(running.app, running.api)
        async with open_socket(running, trader.token) as ws:
            channels = ["trades", "orders", "reconciliation"]
            subscribed = await ask(ws, {"type": "subscribe", "data": {"channels": channels}})
            assert subscribed["data"]["channels"] == channels

            placed = await trader.trade(side="buy", order_type="limit", price=49000, quantity=0.01)
            assert placed["execution_status"] == "open"
            opened = await receive(ws)
            assert (opened["type"], opened["channel"], opened["account_id"]) == (
                "live_order_update", "orders", trader.id
            )  # fmt: skip
            assert opened["data"]["id"] == placed["order_id"]
            assert (opened["data"]["status"], opened["data"]["submit_state"]) == (
                "open", "submitted"
            )  # fmt: skip

            # Filled at the venue while nobody looked: reconciliation finds it.
            venue.fill(venue.submitted[0].client_order_id, Decimal("0.01"), Decimal(49000))
            await reconcile(live_client(running.app), trader.id)
            pushed = [await receive(ws) for _ in range(4)]
            by_type: dict[str, list[dict[str, Any]]] = {}
            for message in pushed:
                by_type.setdefault(message["type"], []).append(message["data"])
            (fill,) = by_type["trade_update"]
            (order,) = by_type["live_order_update"]
            assert fill["order_id"] == order["id"] == placed["order_id"]
            assert (order["status"], order["filled_quantity"]) == ("filled", 0.01)
            # The pushed events are the ones the owner reads, field for field.
            events = await trader.get(f"/api/account/{trader.id}/reconciliation")
            assert sorted(by_type["reconciliation_update"], key=lambda e: e["id"]) == sorted(
                events, key=lambda e: e["id"]
            )
            assert {e["kind"] for e in events} == {"order_missing", "missed_fills"}
            (trade,) = await trader.get(f"/api/account/{trader.id}/trades")
            assert trade["id"] == fill["id"]
