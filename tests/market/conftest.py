"""Fixtures of the market tests: the loopback venue fakes and one provider per source."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from hyperoru.market.providers.base import MarketDataProvider
from hyperoru.market.providers.binance.provider import BinanceProvider
from hyperoru.market.providers.hyperliquid.provider import HyperliquidProvider
from hyperoru.market.providers.sim.provider import SimProvider
from tests.market.fakes import FakeBinance, FakeHyperliquid

# Small enough that a stalled fake fails a test quickly, large enough for a loaded CI box.
VENUE_TIMEOUT = 1.0


@pytest.fixture(scope="session")
def _hyperliquid_server() -> Iterator[FakeHyperliquid]:
    server = FakeHyperliquid().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _binance_server() -> Iterator[FakeBinance]:
    server = FakeBinance().start()
    yield server
    server.stop()


@pytest.fixture
def hyperliquid_fake(_hyperliquid_server: FakeHyperliquid) -> Iterator[FakeHyperliquid]:
    _hyperliquid_server.reset()
    yield _hyperliquid_server
    _hyperliquid_server.reset()


@pytest.fixture
def binance_fake(_binance_server: FakeBinance) -> Iterator[FakeBinance]:
    _binance_server.reset()
    yield _binance_server
    _binance_server.reset()


def build(source: str, hyperliquid: FakeHyperliquid, binance: FakeBinance) -> MarketDataProvider:
    if source == "hyperliquid":
        return HyperliquidProvider(base_url=hyperliquid.url, timeout=VENUE_TIMEOUT)
    if source == "binance":
        return BinanceProvider(base_url=binance.url, timeout=VENUE_TIMEOUT)
    return SimProvider(seed=7)


@pytest.fixture(params=["sim", "hyperliquid", "binance"])
async def provider(
    request: pytest.FixtureRequest,
    hyperliquid_fake: FakeHyperliquid,
    binance_fake: FakeBinance,
) -> AsyncIterator[MarketDataProvider]:
    built = build(request.param, hyperliquid_fake, binance_fake)
    yield built
    await built.aclose()


@pytest.fixture(params=["hyperliquid", "binance"])
async def venue(
    request: pytest.FixtureRequest,
    hyperliquid_fake: FakeHyperliquid,
    binance_fake: FakeBinance,
) -> AsyncIterator[tuple[MarketDataProvider, FakeHyperliquid | FakeBinance]]:
    built = build(request.param, hyperliquid_fake, binance_fake)
    fake = hyperliquid_fake if request.param == "hyperliquid" else binance_fake
    yield built, fake
    await built.aclose()
