"""The simulated provider: the embedded default, offline and deterministic."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from hyperoru.market.intervals import INTERVAL_SECONDS, ceil_time
from hyperoru.market.providers.base import (
    BOOK_DEPTH,
    AssetMeta,
    BookLevel,
    Candle,
    FundingRate,
    OpenInterest,
    OrderBook,
    Ticker,
    UnknownSymbol,
)
from hyperoru.market.providers.sim.assets import MIN_NOTIONAL, SIM_ASSETS, SimAsset
from hyperoru.market.providers.sim.model import PricePath
from hyperoru.offload import off_loop
from hyperoru.timeutils import utcnow

CANDLE_PAGE = 1000
_LEVEL_GAP_BPS = 2.0


def price_decimals(price: float, sz_decimals: int) -> int:
    """Hyperliquid's tick rule: at most 5 significant figures and 6 − szDecimals decimals."""
    magnitude = math.floor(math.log10(price)) if price > 0 else 0
    return max(0, min(6 - sz_decimals, 4 - magnitude))


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


class SimProvider:
    name = "sim"
    candle_page_size = CANDLE_PAGE

    def __init__(
        self,
        *,
        seed: int = 42,
        assets: Sequence[SimAsset] = SIM_ASSETS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.seed = seed
        self.dataset = f"sim-{seed}"
        self._clock = clock
        self._paths = {asset.symbol: PricePath(seed, asset) for asset in assets}

    async def aclose(self) -> None:
        return None

    def _path(self, symbol: str) -> PricePath:
        path = self._paths.get(symbol)
        if path is None:
            raise UnknownSymbol(symbol)
        return path

    async def assets(self) -> Sequence[AssetMeta]:
        return [
            AssetMeta(p.asset.symbol, p.asset.sz_decimals, p.asset.max_leverage, MIN_NOTIONAL)
            for p in self._paths.values()
        ]

    # -- prices and book --------------------------------------------------------------

    def book_at(self, symbol: str, moment: datetime) -> OrderBook:
        path = self._path(symbol)
        asset = path.asset
        second = int(moment.timestamp())
        mid = path.price_at(second)
        places = price_decimals(mid, asset.sz_decimals)
        scale = 10**places  # prices are integers of ticks below
        half_spread = mid * asset.spread_bps / 20_000
        best_bid = math.floor((mid - half_spread) * scale)
        best_ask = max(math.ceil((mid + half_spread) * scale), best_bid + 1)
        gap = max(1, math.ceil(mid * _LEVEL_GAP_BPS / 10_000 * scale))
        noise = path.book_noise(second, BOOK_DEPTH)
        base_size = asset.depth_notional / mid
        smallest = 10.0**-asset.sz_decimals

        def level(ticks: int, depth: int, jitter: float) -> BookLevel:
            size = max(smallest, base_size * (1 + 0.35 * depth) * (0.6 + 0.8 * jitter))
            return BookLevel(Decimal(ticks).scaleb(-places), _decimal(size, asset.sz_decimals))

        bids = tuple(level(best_bid - i * gap, i, noise[i]) for i in range(BOOK_DEPTH))
        asks = tuple(level(best_ask + i * gap, i, noise[BOOK_DEPTH + i]) for i in range(BOOK_DEPTH))
        return OrderBook(symbol, bids, asks, datetime.fromtimestamp(second, UTC))

    def ticker_at(self, symbol: str, moment: datetime) -> Ticker:
        path = self._path(symbol)
        seconds = int(moment.timestamp())
        mid = path.price_at(seconds)
        places = price_decimals(mid, path.asset.sz_decimals)
        book = self.book_at(symbol, moment)
        return Ticker(
            symbol=symbol,
            mid=_decimal(mid, places),
            mark=_decimal(mid * (1 + path.basis(seconds)), places),
            bid=book.bids[0].price,
            ask=book.asks[0].price,
            time=datetime.fromtimestamp(seconds, UTC),
        )

    def _tickers_at(self, symbols: Sequence[str], moment: datetime) -> dict[str, Ticker]:
        return {s: self.ticker_at(s, moment) for s in symbols if s in self._paths}

    # Prices and candles are numpy work (a new day's minutes, a page of candles), kept off
    # the event loop.
    async def tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        return await off_loop(self._tickers_at, symbols, self._clock())

    async def order_book(self, symbol: str) -> OrderBook:
        return await off_loop(self.book_at, symbol, self._clock())

    # -- candles ----------------------------------------------------------------------

    def candles_between(
        self, symbol: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Candle]:
        path = self._path(symbol)
        seconds = INTERVAL_SECONDS[interval]
        first = int(ceil_time(start, interval).timestamp())
        stop = min(int(end.timestamp()), int(now.timestamp()))
        opens = list(range(first, stop, seconds))[:CANDLE_PAGE]
        if not opens:
            return []
        now_seconds = now.timestamp()
        first_minute = first // 60
        # The candle still forming ends at "now": no candle reveals the future.
        last_minute = min(opens[-1] + seconds, math.ceil(now_seconds / 60) * 60) // 60
        bars = path.bars(first_minute, last_minute)
        if now_seconds < last_minute * 60:
            tail_open = bars.open[-1]
            tail_close = path.price_at(now_seconds)
            bars.close[-1] = tail_close
            bars.high[-1] = max(tail_open, tail_close)
            bars.low[-1] = min(tail_open, tail_close)
            bars.volume[-1] *= (now_seconds - (last_minute - 1) * 60) / 60
        offsets = [(t - first) // 60 for t in opens]
        highs = np.maximum.reduceat(bars.high, offsets)
        lows = np.minimum.reduceat(bars.low, offsets)
        volumes = np.add.reduceat(bars.volume, offsets)
        closes = [bars.close[o - 1] for o in [*offsets[1:], len(bars.close)]]
        asset = path.asset
        candles: list[Candle] = []
        for i, opened in enumerate(opens):
            places = price_decimals(float(bars.open[offsets[i]]), asset.sz_decimals)
            candles.append(
                Candle(
                    open_time=datetime.fromtimestamp(opened, UTC),
                    open=_decimal(bars.open[offsets[i]], places),
                    high=_decimal(highs[i], places),
                    low=_decimal(lows[i], places),
                    close=_decimal(closes[i], places),
                    volume=_decimal(volumes[i], asset.sz_decimals),
                )
            )
        return candles

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        self._path(symbol)
        now = self._clock()
        # A page of daily candles is 1.4 million minutes of numpy work.
        return await off_loop(self.candles_between, symbol, interval, start, end, now)

    # -- funding and open interest -----------------------------------------------------

    def _funding(self, path: PricePath, hour: int) -> FundingRate:
        rate = Decimal(f"{path.funding_rate(hour):.8f}")
        return FundingRate(path.asset.symbol, rate, datetime.fromtimestamp(hour * 3600, UTC), 1)

    async def funding_rate(self, symbol: str) -> FundingRate:
        path = self._path(symbol)
        hour = int(self._clock().timestamp()) // 3600
        return self._funding(path, hour)

    async def funding_history(
        self, symbol: str, start: datetime, end: datetime
    ) -> Sequence[FundingRate]:
        path = self._path(symbol)
        end = min(end, self._clock())
        first = math.ceil(start.timestamp() / 3600)
        last = int(end.timestamp()) // 3600
        return [self._funding(path, hour) for hour in range(first, last + 1)][:CANDLE_PAGE]

    async def open_interest(self, symbol: str) -> OpenInterest:
        path = self._path(symbol)
        now = self._clock()
        hour = int(now.timestamp()) // 3600
        contracts = _decimal(path.open_interest(hour), path.asset.sz_decimals)
        return OpenInterest(symbol, contracts, now - timedelta(microseconds=now.microsecond))
