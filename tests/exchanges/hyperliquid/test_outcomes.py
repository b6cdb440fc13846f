"""Never lose or double an order: unknown outcomes, nonces, signers and retries."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import httpx
import pytest

from hyperoru.exchanges.hyperliquid.client import HyperliquidAdapter
from hyperoru.exchanges.venue import UnknownOutcome, VenueError
from tests.exchanges.hyperliquid.conftest import MASTER, OTHER_KEY, credentials, open_adapter
from tests.exchanges.hyperliquid.test_orders import limit, market
from tests.fakes.hyperliquid_venue import FakeHyperliquid


async def _resolve(adapter: HyperliquidAdapter, venue: FakeHyperliquid, drop: str) -> None:
    """An order taken by the venue whose answer never came back: reported as unknown,
    never sent again, and found by our id."""
    await adapter.rules()
    order = market()
    venue.faults.after_accept = drop  # type: ignore[assignment]
    with pytest.raises(UnknownOutcome):
        await adapter.submit(order)
    assert len(venue.exchange_requests) == 1  # sent once, never again
    found = await adapter.order_status(symbol="ETH", client_order_id=order.client_order_id)
    assert found is not None and found.status == "filled"
    assert len(venue.order_by_cloid(MASTER, "0x" + order.client_order_id)) == 1
    assert venue.position(MASTER, "ETH") == Decimal("0.01")


async def test_a_dropped_connection_after_accept_is_an_unknown_outcome(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await _resolve(adapter, venue, "drop")


async def test_a_timeout_after_accept_is_an_unknown_outcome(venue: FakeHyperliquid) -> None:
    # The venue took the order and its answer hangs: the client gives up after its timeout.
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.3)) as http:
        adapter = open_adapter(venue, http=http)
        await _resolve(adapter, venue, "hang")


async def test_a_5xx_from_exchange_is_an_unknown_outcome(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.rules()
    order = limit("1900")
    venue.faults.server_error = 502
    with pytest.raises(UnknownOutcome):
        await adapter.submit(order)
    found = await adapter.order_status(symbol="ETH", client_order_id=order.client_order_id)
    assert found is not None and found.status == "open"
    # An order the venue never got is None: the caller may then send it (once more).
    assert (
        await adapter.order_status(symbol="ETH", client_order_id=market().client_order_id) is None
    )


async def test_no_connection_means_nothing_was_sent_and_reads_retry(
    venue: FakeHyperliquid,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    adapter = HyperliquidAdapter(
        credentials(), base_url=f"http://127.0.0.1:{port}", clock=venue.clock, sleep=record
    )
    try:
        with pytest.raises(VenueError) as unreachable:
            await adapter.account()
        assert unreachable.value.code == "VENUE_UNAVAILABLE"
        assert waits == [0.25, 0.5]  # three attempts, backing off
        with pytest.raises(VenueError) as unsent:
            await adapter.disarm_dead_man()
        assert unsent.value.code == "VENUE_UNAVAILABLE"
    finally:
        await adapter.aclose()


async def test_concurrent_submits_get_distinct_increasing_nonces(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.rules()
    # The clock stands still: every nonce is drawn in the same millisecond.
    orders = [limit(str(1900 - i)) for i in range(8)]
    states = await asyncio.gather(*(adapter.submit(order) for order in orders))
    assert all(state.status == "open" for state in states)
    nonces = sorted(request["nonce"] for request in venue.exchange_requests)
    start = int(venue.clock().timestamp() * 1000)
    assert nonces == list(range(start, start + 8))
    assert len(venue.orders_of(MASTER)) == 8


async def test_a_replayed_request_is_refused_as_a_duplicate_nonce(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.submit(limit("1900"))
    replay = venue.exchange_requests[0]
    async with httpx.AsyncClient() as http:
        answer = (await http.post(f"{venue.base_url}/exchange", json=replay)).json()
    assert answer["status"] == "err"
    assert answer["response"] == f"Invalid nonce: duplicate nonce {replay['nonce']}"
    assert len(venue.orders_of(MASTER)) == 1


async def test_a_refused_nonce_takes_nothing(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.rules()
    venue.faults.duplicate_nonce = True
    with pytest.raises(VenueError) as refused:
        await adapter.submit(market())
    assert refused.value.code == "VENUE_TIMESTAMP" and "duplicate nonce" in refused.value.message
    assert venue.orders_of(MASTER) == []
    assert (await adapter.submit(market())).status == "filled"  # the next nonce is fresh


async def test_a_venue_clock_far_from_ours_refuses_the_nonce(
    venue: FakeHyperliquid, adapter: HyperliquidAdapter
) -> None:
    await adapter.rules()
    venue.skew_ms = 3 * 24 * 3600 * 1000
    with pytest.raises(VenueError) as skewed:
        await adapter.submit(market())
    assert skewed.value.code == "VENUE_TIMESTAMP"
    assert venue.orders_of(MASTER) == []


async def test_an_unapproved_signer_is_refused_as_the_venue_refuses_it(
    venue: FakeHyperliquid,
) -> None:
    adapter = open_adapter(venue, key=OTHER_KEY)
    try:
        with pytest.raises(VenueError) as refused:
            await adapter.submit(market())
        assert refused.value.code == "VENUE_AUTH"
        assert "does not exist" in refused.value.message
        assert venue.orders_of(MASTER) == []
    finally:
        await adapter.aclose()


async def test_mainnet_signatures_do_not_work_at_a_testnet_venue(venue: FakeHyperliquid) -> None:
    adapter = open_adapter(venue, environment="mainnet")
    try:
        with pytest.raises(VenueError) as refused:
            await adapter.submit(market())
        assert refused.value.code == "VENUE_AUTH"
    finally:
        await adapter.aclose()
