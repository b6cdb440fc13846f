"""Every call to a live venue is timed in /metrics under its venue, call and outcome,
also through a venue connector swapped in after start-up (as these tests do)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from hyperoru.exchanges.venue import VenueError
from tests.conftest import asgi_client
from tests.helpers import Api
from tests.live.helpers import live_client, live_trader
from tests.live.test_journal import BUY
from tests.live.venue_double import VenueDouble
from tests.metrics.scrape import Samples, scrape


def _submits(samples: Samples, outcome: str) -> float:
    labels = (("call", "submit"), ("outcome", outcome), ("venue", "hyperliquid"))
    return samples.get(("hyperoru_venue_call_duration_seconds_count", labels), 0)


@pytest.mark.usefixtures("connected")
async def test_venue_calls_are_counted_by_outcome(
    app: FastAPI, api: Api, venue: VenueDouble
) -> None:
    trader = await live_trader(app, api)
    async with asgi_client(app, "127.0.0.1") as local:
        before = await scrape(local)
        report = await live_client(app).place(account_id=trader.id, intent=BUY)
        assert report.execution_status == "filled"
        filled = await scrape(local)
        venue.reject_next = VenueError("VENUE_INSUFFICIENT_MARGIN", "not enough margin")
        refused = await live_client(app).place(account_id=trader.id, intent=BUY)
        assert refused.execution_status == "rejected"
        after = await scrape(local)
    assert _submits(filled, "ok") - _submits(before, "ok") == 1
    assert _submits(after, "ok") == _submits(filled, "ok")
    assert _submits(after, "insufficient_margin") - _submits(before, "insufficient_margin") == 1
    # The rules read before each order is a venue call too.
    rules = (("call", "rules"), ("outcome", "ok"), ("venue", "hyperliquid"))
    assert after[("hyperoru_venue_call_duration_seconds_count", rules)] >= 1
