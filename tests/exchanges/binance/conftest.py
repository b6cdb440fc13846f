"""The adapter against the fake venue over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from hyperoru.exchanges.binance.client import BinanceFuturesAdapter
from hyperoru.exchanges.venue import BinanceCredentials
from tests.fakes.binance_venue import FakeBinanceFutures, fake_binance_futures

KEY = "fake-api-key-0001"
SECRET = "fake-api-secret-0001"


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def venue() -> AsyncIterator[FakeBinanceFutures]:
    async with fake_binance_futures() as fake:
        fake.add_key(KEY, SECRET)
        fake.set_mark("BTC", 60000)
        fake.set_mark("ETH", 3000)
        fake.set_mark("SOL", 150)
        yield fake


AdapterFactory = Callable[..., BinanceFuturesAdapter]


@pytest.fixture
async def make_adapter(venue: FakeBinanceFutures) -> AsyncIterator[AdapterFactory]:
    clients: list[httpx.AsyncClient] = []

    def build(
        key: str = KEY, secret: str = SECRET, timeout: float = 5.0, **options: Any
    ) -> BinanceFuturesAdapter:
        http = httpx.AsyncClient(timeout=timeout)
        clients.append(http)
        return BinanceFuturesAdapter(
            BinanceCredentials("testnet", key, secret),
            base_url=venue.base_url,
            http=http,
            clock=venue.client_clock,
            sleep=no_sleep,
            **options,
        )

    yield build
    for http in clients:
        await http.aclose()


@pytest.fixture
def adapter(make_adapter: AdapterFactory) -> BinanceFuturesAdapter:
    return make_adapter()
