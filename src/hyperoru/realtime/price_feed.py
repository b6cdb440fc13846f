"""Publishes price changes from the market domain's cache onto the bus.

The cache (``Services.market.cache``) is read every ``price_poll_seconds``; only prices
that changed since the last look are published, in the REST price shape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from hyperoru.market.price_cache import CachedPrice, PriceCache
from hyperoru.market.schemas import PriceOut
from hyperoru.realtime.bus import EventBus
from hyperoru.realtime.events import PriceEvent

log = logging.getLogger("hyperoru.realtime.prices")


def price_event(cached: CachedPrice) -> PriceEvent:
    ticker = cached.ticker
    body = PriceOut(
        symbol=ticker.symbol,
        price=ticker.mid,
        bid=ticker.bid,
        ask=ticker.ask,
        mark_price=ticker.mark,
        timestamp=ticker.time,
        source=cached.source,
        stale=cached.stale,
    )
    return PriceEvent(
        symbol=ticker.symbol, observed_at=ticker.time, data=body.model_dump(mode="json")
    )


class PricePublisher:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._seen: dict[str, datetime] = {}

    async def publish_changes(self, cache: PriceCache) -> int:
        """Publish what changed since the last call; returns how many events went out."""
        published = 0
        for symbol in cache.tracked:
            cached = cache.cached(symbol)
            if cached is None:
                continue
            # Receivers order prices by venue time, so a new time is what makes news.
            if self._seen.get(symbol) == cached.ticker.time:
                continue
            self._seen[symbol] = cached.ticker.time
            await self._bus.publish(price_event(cached))
            published += 1
        return published


async def publish_prices(
    cache_of: Callable[[], PriceCache], bus: EventBus, interval: float
) -> None:
    """Run forever. Asks for the cache on every look, so a replaced market is followed."""
    publisher = PricePublisher(bus)
    while True:
        try:
            await publisher.publish_changes(cache_of())
        except Exception:
            log.exception("price publishing failed")
        await asyncio.sleep(interval)
