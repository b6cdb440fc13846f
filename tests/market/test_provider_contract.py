"""The one provider suite: sim directly, Hyperliquid and Binance against loopback fakes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hyperoru.market.intervals import INTERVAL_SECONDS, floor_time
from hyperoru.market.providers.base import (
    BOOK_DEPTH,
    MarketDataProvider,
    UnknownSymbol,
)
from hyperoru.timeutils import utcnow


async def test_assets_carry_venue_metadata(provider: MarketDataProvider) -> None:
    assets = {a.symbol: a for a in await provider.assets()}
    assert {"BTC", "ETH", "SOL"} <= set(assets)
    for asset in assets.values():
        assert isinstance(asset.sz_decimals, int) and asset.sz_decimals >= 0
        assert isinstance(asset.max_leverage, int) and asset.max_leverage >= 1
        assert isinstance(asset.min_notional, Decimal) and asset.min_notional > 0


async def test_tickers_are_consistent_decimals(provider: MarketDataProvider) -> None:
    tickers = await provider.tickers(["BTC", "ETH", "NOPE"])
    assert set(tickers) == {"BTC", "ETH"}
    for symbol, ticker in tickers.items():
        assert ticker.symbol == symbol
        assert isinstance(ticker.mid, Decimal) and ticker.mid > 0
        assert isinstance(ticker.mark, Decimal) and ticker.mark > 0
        assert ticker.bid is not None and ticker.ask is not None
        assert ticker.bid < ticker.ask
        assert ticker.bid <= ticker.mid <= ticker.ask
        assert ticker.time.tzinfo is not None
        # Mark and mid never drift apart by more than a percent on a sane market.
        assert abs(ticker.mark - ticker.mid) / ticker.mid < Decimal("0.01")


async def test_order_book_has_twenty_ordered_levels(provider: MarketDataProvider) -> None:
    book = await provider.order_book("BTC")
    assert book.symbol == "BTC"
    assert len(book.bids) == BOOK_DEPTH and len(book.asks) == BOOK_DEPTH
    bid_prices = [level.price for level in book.bids]
    ask_prices = [level.price for level in book.asks]
    assert bid_prices == sorted(bid_prices, reverse=True) and len(set(bid_prices)) == BOOK_DEPTH
    assert ask_prices == sorted(ask_prices) and len(set(ask_prices)) == BOOK_DEPTH
    assert bid_prices[0] < ask_prices[0]
    assert all(level.size > 0 for level in (*book.bids, *book.asks))


@pytest.mark.parametrize("interval", ["1m", "1h", "1d"])
async def test_candles_are_aligned_ordered_and_in_range(
    provider: MarketDataProvider, interval: str
) -> None:
    now = utcnow()
    seconds = INTERVAL_SECONDS[interval]
    start = floor_time(now, interval) - timedelta(seconds=seconds * 30) + timedelta(seconds=1)
    end = floor_time(now, interval) - timedelta(seconds=seconds * 5)
    candles = await provider.candles("ETH", interval, start, end)
    assert 20 <= len(candles) <= 25
    times = [c.open_time for c in candles]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(start <= t < end for t in times)
    assert all(int(t.timestamp()) % seconds == 0 for t in times)
    for c in candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.volume >= 0
        assert all(isinstance(v, Decimal) for v in (c.open, c.high, c.low, c.close, c.volume))


async def test_candles_page_and_never_reach_the_future(provider: MarketDataProvider) -> None:
    now = utcnow()
    start = now - timedelta(minutes=5000)
    page = await provider.candles("BTC", "1m", start, now + timedelta(days=1))
    assert 0 < len(page) <= provider.candle_page_size
    assert page[0].open_time >= start
    assert all(c.open_time <= now for c in page)
    # The next page continues where this one stopped.
    follow = await provider.candles("BTC", "1m", page[-1].open_time + timedelta(minutes=1), now)
    assert follow and follow[0].open_time == page[-1].open_time + timedelta(minutes=1)


async def test_funding_rate_and_history(provider: MarketDataProvider) -> None:
    current = await provider.funding_rate("BTC")
    assert current.symbol == "BTC" and isinstance(current.rate, Decimal)
    assert abs(current.rate) < Decimal("0.04")
    assert current.interval_hours in (1, 8)
    now = utcnow()
    history = await provider.funding_history("BTC", now - timedelta(days=2), now)
    assert len(history) >= 6
    times = [f.time for f in history]
    assert times == sorted(times)
    assert all(now - timedelta(days=2) <= t <= now for t in times)


async def test_open_interest(provider: MarketDataProvider) -> None:
    oi = await provider.open_interest("SOL")
    assert oi.symbol == "SOL" and isinstance(oi.contracts, Decimal) and oi.contracts > 0


@pytest.mark.parametrize("call", ["order_book", "candles", "funding_rate", "open_interest"])
async def test_unknown_symbol_is_reported_as_such(provider: MarketDataProvider, call: str) -> None:
    now = utcnow()
    with pytest.raises(UnknownSymbol) as raised:
        if call == "candles":
            await provider.candles("NOPE", "1h", now - timedelta(days=1), now)
        else:
            await getattr(provider, call)("NOPE")
    assert raised.value.symbol == "NOPE"


async def test_every_source_implements_the_interface(provider: MarketDataProvider) -> None:
    assert isinstance(provider, MarketDataProvider)
    assert provider.name in ("sim", "hyperliquid", "binance")
    assert provider.dataset and provider.candle_page_size >= 500
