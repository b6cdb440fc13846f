"""The price cache on the sim provider, with a hand-driven clock."""

from __future__ import annotations

import asyncio

import pytest

from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers.base import UnknownSymbol
from hyperoru.market.providers.sim.provider import SimProvider


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_fresh_then_old_then_fresh_again() -> None:
    clock = Clock()
    cache = PriceCache(SimProvider(), symbols=["btc"], refresh_seconds=5, clock=clock)
    assert cache.status() == "error" and cache.cached("BTC") is None
    assert await cache.refresh() is True
    assert cache.status() == "ok"
    assert (await cache.price("BTC")).stale is False
    clock.now += 21  # four refresh periods without a refresh
    assert cache.status() == "stale"
    assert (await cache.price("BTC")).stale is True
    await cache.refresh()
    assert cache.status() == "ok" and (await cache.price("BTC")).stale is False


async def test_unknown_symbol_and_on_demand_tracking() -> None:
    cache = PriceCache(SimProvider(), symbols=["BTC"], refresh_seconds=5, clock=Clock())
    with pytest.raises(UnknownSymbol):
        await cache.price("NOPE")
    await cache.price("ETH")
    assert cache.tracked == ("BTC", "ETH")


async def test_symbols_beyond_the_cap_are_refetched_in_the_background() -> None:
    clock = Clock()
    cache = PriceCache(
        SimProvider(), symbols=["BTC"], refresh_seconds=5, max_tracked=1, clock=clock
    )
    first = await cache.price("SOL")
    assert cache.tracked == ("BTC",) and first.stale is False
    clock.now += 60
    old = await cache.price("SOL")
    # Answered from the cache at once, flagged, while a fetch runs behind it.
    assert old.stale is True and old.ticker == first.ticker
    await asyncio.sleep(0)
    await asyncio.gather(*cache._refetching.values())
    assert (await cache.price("SOL")).stale is False
