"""/ws ``place_order`` and ``get_snapshot`` of a live trader go to its venue, on a real
server (its fills' bus events: test_ingest)."""

from __future__ import annotations

from decimal import Decimal

from hyperoru.app import replace_services
from hyperoru.timeutils import utcnow
from tests.live.helpers import live_trader
from tests.live.venue_double import VenueDouble
from tests.realtime.conftest import (
    LiveServer,
    ask,
    open_socket,
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
