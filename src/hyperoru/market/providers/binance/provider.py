"""Market data from Binance USDⓈ-M futures public REST (``/fapi/v1``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from hyperoru.market.intervals import to_millis
from hyperoru.market.providers.base import (
    AssetMeta,
    Candle,
    FundingRate,
    OpenInterest,
    OrderBook,
    Ticker,
    UnknownSymbol,
    UpstreamError,
)
from hyperoru.market.providers.binance import parsing
from hyperoru.market.providers.binance.symbols import pair_of
from hyperoru.market.providers.http import VenueHttp, VenueRejected, WeightLimiter
from hyperoru.timeutils import utcnow

BASE_URL = "https://fapi.binance.com"
# The documented default is 2400 request weight a minute; exchangeInfo tells the truth
# and we adopt it (less a margin) once it has been read.
DEFAULT_WEIGHT_PER_MINUTE = 2400
_MARGIN = 0.9
_INVALID_SYMBOL = -1121
_META_TTL_SECONDS = 300.0
CANDLE_PAGE = 1000


def _kline_weight(limit: int) -> int:
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    return 5 if limit <= 1000 else 10


class BinanceProvider:
    name = "binance"
    dataset = "binance-usdm"
    candle_page_size = CANDLE_PAGE

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._clock = clock
        self._http = VenueHttp(
            venue="binance",
            base_url=base_url or BASE_URL,
            limiter=WeightLimiter(int(DEFAULT_WEIGHT_PER_MINUTE * _MARGIN)),
            timeout=timeout,
            transport=transport,
            used_weight_header="x-mbx-used-weight-1m",
        )
        self._assets: dict[str, AssetMeta] = {}
        self._meta_at: datetime | None = None

    @property
    def limiter(self) -> WeightLimiter:
        return self._http.limiter

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, weight: int, **params: Any) -> Any:
        try:
            return await self._http.request("GET", path, weight=weight, params=params)
        except VenueRejected as exc:
            body = exc.body if isinstance(exc.body, dict) else {}
            if body.get("code") == _INVALID_SYMBOL and "symbol" in params:
                raise UnknownSymbol(str(params["symbol"]).removesuffix("USDT")) from exc
            raise

    async def _ensure_meta(self) -> None:
        if (
            self._meta_at is not None
            and (self._clock() - self._meta_at).total_seconds() < _META_TTL_SECONDS
        ):
            return
        payload = await self._get("/fapi/v1/exchangeInfo", 1)
        self._assets = {a.symbol: a for a in parsing.exchange_info(payload)}
        limit = parsing.request_weight_limit(payload)
        if limit:
            self.limiter.capacity = int(limit * _MARGIN)
        self._meta_at = self._clock()

    async def _pair(self, symbol: str) -> str:
        await self._ensure_meta()
        if symbol not in self._assets:
            raise UnknownSymbol(symbol)
        return pair_of(symbol)

    async def assets(self) -> Sequence[AssetMeta]:
        await self._ensure_meta()
        return list(self._assets.values())

    async def tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        await self._ensure_meta()
        marks = parsing.premium_index(await self._get("/fapi/v1/premiumIndex", 10))
        best = parsing.book_tickers(await self._get("/fapi/v1/ticker/bookTicker", 5))
        now = self._clock()
        result: dict[str, Ticker] = {}
        for symbol in symbols:
            if symbol not in self._assets or symbol not in marks:
                continue
            mark = marks[symbol].mark
            bid, ask = best.get(symbol, (None, None))
            mid = (bid + ask) / 2 if bid is not None and ask is not None else mark
            result[symbol] = Ticker(symbol, mid, mark, bid, ask, now)
        return result

    async def order_book(self, symbol: str) -> OrderBook:
        pair = await self._pair(symbol)
        return parsing.depth(await self._get("/fapi/v1/depth", 2, symbol=pair, limit=20), symbol)

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        pair = await self._pair(symbol)
        end = min(end, self._clock())
        if end <= start:
            return []
        payload = await self._get(
            "/fapi/v1/klines",
            _kline_weight(CANDLE_PAGE),
            symbol=pair,
            interval=interval,
            startTime=to_millis(start),
            endTime=to_millis(end) - 1,
            limit=CANDLE_PAGE,
        )
        rows = parsing.klines(payload)
        inside = sorted((c for c in rows if start <= c.open_time < end), key=lambda c: c.open_time)
        return inside[:CANDLE_PAGE]

    async def funding_rate(self, symbol: str) -> FundingRate:
        pair = await self._pair(symbol)
        marks = parsing.premium_index(await self._get("/fapi/v1/premiumIndex", 1, symbol=pair))
        if symbol not in marks:
            raise UpstreamError(f"binance sent no premium index for {pair}")
        info = marks[symbol]
        return FundingRate(symbol, info.funding, self._clock(), parsing.FUNDING_INTERVAL_HOURS)

    async def funding_history(
        self, symbol: str, start: datetime, end: datetime
    ) -> Sequence[FundingRate]:
        pair = await self._pair(symbol)
        payload = await self._get(
            "/fapi/v1/fundingRate",
            1,
            symbol=pair,
            startTime=to_millis(start),
            endTime=to_millis(end),
            limit=1000,
        )
        return [r for r in parsing.funding_history(payload, symbol) if start <= r.time <= end]

    async def open_interest(self, symbol: str) -> OpenInterest:
        pair = await self._pair(symbol)
        return parsing.open_interest(
            await self._get("/fapi/v1/openInterest", 1, symbol=pair), symbol
        )
