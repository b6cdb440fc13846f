"""Two processes signing for one API wallet in the same millisecond: with a counter per
process they hand the venue the same nonce and one action is refused; with the counters
in Redis (each process its own Redis client) both go through, in order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from hyperoru.exchanges.connect import venue_connector
from hyperoru.exchanges.hyperliquid.client import HyperliquidAdapter
from hyperoru.exchanges.hyperliquid.nonces import NonceSource, RedisNonces, SignerNonces
from hyperoru.exchanges.venue import VenueError
from hyperoru.settings import Settings
from tests.exchanges.hyperliquid.conftest import AGENT, credentials
from tests.exchanges.hyperliquid.test_orders import market
from tests.fakes.hyperliquid_venue import FakeHyperliquid


def _process(venue: FakeHyperliquid, nonces: NonceSource) -> HyperliquidAdapter:
    # The fake's clock stands still: every signature is made in the same millisecond.
    return HyperliquidAdapter(
        credentials(), base_url=venue.base_url, clock=venue.clock, nonces=nonces
    )


async def test_counters_per_process_collide(venue: FakeHyperliquid) -> None:
    first, second = _process(venue, SignerNonces()), _process(venue, SignerNonces())
    try:
        assert (await first.submit(market())).status == "filled"
        with pytest.raises(VenueError) as refused:
            await second.submit(market())
        assert "duplicate nonce" in refused.value.message
    finally:
        await first.aclose()
        await second.aclose()


async def test_counters_in_redis_never_collide(venue: FakeHyperliquid, redis_url: str) -> None:
    counters = [RedisNonces(redis_url), RedisNonces(redis_url)]
    first, second = (_process(venue, counter) for counter in counters)
    try:
        for _ in range(3):
            assert (await first.submit(market())).status == "filled"
            assert (await second.submit(market())).status == "filled"
        nonces = [request["nonce"] for request in venue.exchange_requests]
        assert nonces == sorted(set(nonces)) and len(nonces) == 6
    finally:
        await first.aclose()
        await second.aclose()
        for counter in counters:
            await counter.aclose()


async def test_redis_down_sends_nothing(venue: FakeHyperliquid) -> None:
    counter = RedisNonces("redis://127.0.0.1:1/0")  # nothing listens there
    adapter = _process(venue, counter)
    try:
        with pytest.raises(VenueError) as refused:
            await adapter.submit(market())
        assert refused.value.code == "VENUE_UNAVAILABLE"
        assert venue.exchange_requests == []
    finally:
        await adapter.aclose()
        await counter.aclose()


async def test_a_server_with_redis_counts_its_nonces_there(
    venue: FakeHyperliquid, redis_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(redis_url=redis_url, hyperliquid_base_url=venue.base_url)
    adapter = venue_connector(settings)(credentials())
    client = Redis.from_url(redis_url)
    try:
        assert (await adapter.submit(market())).status == "filled"
        (request,) = venue.exchange_requests
        stored = await client.get(f"hyperoru:hl-nonce:{AGENT.lower()}")
        assert stored is not None and int(stored) == request["nonce"]
    finally:
        await adapter.aclose()
        await client.aclose()
