"""Venue failures become clean provider errors; rate-limit answers make us back off."""

from __future__ import annotations

import pytest

from hyperoru.market.providers.base import (
    MarketDataProvider,
    MarketDataUnavailable,
    UpstreamError,
)
from hyperoru.market.providers.http import WeightLimiter
from tests.market.conftest import VENUE_TIMEOUT
from tests.market.fakes import FakeVenue, Fault

Venue = tuple[MarketDataProvider, FakeVenue]


async def _warm(provider: MarketDataProvider) -> None:
    # Load the asset list first so that the next call is exactly one request.
    await provider.assets()


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_mean_unavailable(venue: Venue, status: int) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("status", status=status, body={"error": "boom"}))
    with pytest.raises(MarketDataUnavailable):
        await provider.order_book("BTC")
    assert (await provider.order_book("BTC")).bids  # the next call works again


async def test_stalled_answer_times_out_cleanly(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("stall", seconds=VENUE_TIMEOUT + 1))
    with pytest.raises(MarketDataUnavailable, match="in time"):
        await provider.order_book("BTC")


async def test_truncated_body_is_an_upstream_error(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("truncated"))
    with pytest.raises(UpstreamError):
        await provider.order_book("BTC")


async def test_non_json_body_is_an_upstream_error(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("not_json"))
    with pytest.raises(UpstreamError, match="not JSON"):
        await provider.order_book("BTC")


async def test_unexpected_shape_is_an_upstream_error(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("status", status=200, body={"surprise": [1, 2, 3]}))
    with pytest.raises(UpstreamError, match="unexpected shape"):
        await provider.order_book("BTC")


async def test_refused_request_is_an_upstream_error(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("status", status=400, body={"code": -1100, "msg": "Illegal characters"}))
    with pytest.raises(UpstreamError):
        await provider.order_book("BTC")


async def test_429_backs_off_without_calling_again(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(Fault("status", status=429, body=None, headers={"Retry-After": "30"}))
    with pytest.raises(MarketDataUnavailable, match="rate limited") as first:
        await provider.order_book("BTC")
    assert first.value.retry_after == 30
    calls = len(fake.requests)
    # While backing off we fail fast: the venue sees no further request.
    with pytest.raises(MarketDataUnavailable, match="backing off") as second:
        await provider.order_book("BTC")
    assert len(fake.requests) == calls
    assert 0 < (second.value.retry_after or 0) <= 30


async def test_429_without_retry_after_backs_off_exponentially(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    limiter: WeightLimiter = provider.limiter  # type: ignore[attr-defined]
    fake.fail_next(Fault("status", status=429))
    with pytest.raises(MarketDataUnavailable):
        await provider.order_book("BTC")
    assert 0 < limiter.blocked_for() <= 1.0
    # A second strike doubles the pause (no real waiting: move the block aside).
    limiter._blocked_until = 0.0
    fake.fail_next(Fault("status", status=429))
    with pytest.raises(MarketDataUnavailable):
        await provider.order_book("BTC")
    assert 1.0 < limiter.blocked_for() <= 2.0


async def test_418_ban_is_respected(venue: Venue) -> None:
    provider, fake = venue
    await _warm(provider)
    fake.fail_next(
        Fault(
            "status",
            status=418,
            body={"code": -1003, "msg": "banned"},
            headers={"Retry-After": "7200"},
        )
    )
    with pytest.raises(MarketDataUnavailable, match="banned"):
        await provider.order_book("BTC")
    calls = len(fake.requests)
    with pytest.raises(MarketDataUnavailable):
        await provider.tickers(["BTC"])
    assert len(fake.requests) == calls
    assert provider.limiter.blocked_for() > 3600  # type: ignore[attr-defined]


async def test_binance_used_weight_header_is_adopted(binance_fake: FakeVenue) -> None:
    from hyperoru.market.providers.binance.provider import BinanceProvider

    provider = BinanceProvider(base_url=binance_fake.url, timeout=VENUE_TIMEOUT)
    try:
        binance_fake.used_weight = 1500  # type: ignore[attr-defined]
        await provider.assets()
        assert provider.limiter.used >= 1500
        # exchangeInfo's own figure (2400) replaces the default, less our margin.
        assert provider.limiter.capacity == 2160
    finally:
        binance_fake.used_weight = 0  # type: ignore[attr-defined]
        await provider.aclose()


async def test_weight_budget_is_never_exceeded() -> None:
    clock = [0.0]
    limiter = WeightLimiter(100, clock=lambda: clock[0])
    for _ in range(5):
        await limiter.acquire(20, max_wait=0)
    with pytest.raises(MarketDataUnavailable, match="budget"):
        await limiter.acquire(2, max_wait=0)
    clock[0] = 60.0  # the window slides: the old weight no longer counts
    await limiter.acquire(100, max_wait=0)
    assert limiter.used == 100
