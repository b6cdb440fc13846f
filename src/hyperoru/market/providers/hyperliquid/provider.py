"""Market data from Hyperliquid's public ``POST /info`` endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

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
)
from hyperoru.market.providers.http import VenueHttp, WeightLimiter
from hyperoru.market.providers.hyperliquid import parsing
from hyperoru.timeutils import utcnow

BASE_URLS = {
    "mainnet": "https://api.hyperliquid.xyz",
    "testnet": "https://api.hyperliquid-testnet.xyz",
}
# The venue's budget is 1200 weight a minute per IP; we keep a margin for other tools.
WEIGHT_PER_MINUTE = 1100
_LIGHT = 2  # allMids, l2Book
_HEAVY = 20  # metaAndAssetCtxs, candleSnapshot, fundingHistory
_META_TTL_SECONDS = 300.0
CANDLE_PAGE = 500


class HyperliquidProvider:
    name = "hyperliquid"
    candle_page_size = CANDLE_PAGE

    def __init__(
        self,
        *,
        environment: Literal["mainnet", "testnet"] = "mainnet",
        base_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.environment = environment
        self.dataset = f"hyperliquid-{environment}"
        self._clock = clock
        self._http = VenueHttp(
            venue="hyperliquid",
            base_url=base_url or BASE_URLS[environment],
            limiter=WeightLimiter(WEIGHT_PER_MINUTE),
            timeout=timeout,
            transport=transport,
        )
        self._assets: dict[str, AssetMeta] = {}
        self._contexts: dict[str, parsing.AssetContext] = {}
        self._meta_at: datetime | None = None

    @property
    def limiter(self) -> WeightLimiter:
        return self._http.limiter

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _info(self, body: dict[str, Any], weight: int) -> Any:
        return await self._http.request("POST", "/info", weight=weight, json_body=body)

    async def _refresh_meta(self) -> None:
        payload = await self._info({"type": "metaAndAssetCtxs"}, _HEAVY)
        assets, contexts = parsing.meta_and_contexts(payload)
        self._assets = {asset.symbol: asset for asset in assets}
        self._contexts = contexts
        self._meta_at = self._clock()

    async def _ensure_meta(self) -> None:
        fresh = (
            self._meta_at is not None
            and (self._clock() - self._meta_at).total_seconds() < _META_TTL_SECONDS
        )
        if not fresh:
            await self._refresh_meta()

    async def _known(self, symbol: str) -> str:
        await self._ensure_meta()
        if symbol not in self._assets:
            raise UnknownSymbol(symbol)
        return symbol

    async def assets(self) -> Sequence[AssetMeta]:
        await self._ensure_meta()
        return list(self._assets.values())

    async def tickers(self, symbols: Sequence[str]) -> Mapping[str, Ticker]:
        await self._refresh_meta()
        mids = parsing.all_mids(await self._info({"type": "allMids"}, _LIGHT))
        wanted = [s for s in symbols if s in self._contexts]
        books = await asyncio.gather(*(self._book(s) for s in wanted))
        now = self._clock()
        result: dict[str, Ticker] = {}
        for symbol, book in zip(wanted, books, strict=True):
            context = self._contexts[symbol]
            bid = book.bids[0].price if book.bids else None
            ask = book.asks[0].price if book.asks else None
            mid = mids.get(symbol) or context.mid or context.mark
            result[symbol] = Ticker(symbol, mid, context.mark, bid, ask, now)
        return result

    async def _book(self, symbol: str) -> OrderBook:
        payload = await self._info({"type": "l2Book", "coin": symbol}, _LIGHT)
        if payload is None:
            raise UnknownSymbol(symbol)
        return parsing.l2_book(payload, symbol)

    async def order_book(self, symbol: str) -> OrderBook:
        return await self._book(await self._known(symbol))

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        await self._known(symbol)
        end = min(end, self._clock())
        if end <= start:
            return []
        request = {
            "coin": symbol,
            "interval": interval,
            "startTime": to_millis(start),
            "endTime": to_millis(end) - 1,
        }
        payload = await self._info({"type": "candleSnapshot", "req": request}, _HEAVY)
        rows = parsing.candles(payload)
        # The venue charges extra weight per 60 candles it returns.
        self.limiter.record(len(rows) // 60)
        inside = sorted((c for c in rows if start <= c.open_time < end), key=lambda c: c.open_time)
        return inside[:CANDLE_PAGE]

    async def funding_rate(self, symbol: str) -> FundingRate:
        await self._refresh_meta()
        if symbol not in self._contexts:
            raise UnknownSymbol(symbol)
        return parsing.funding_now(symbol, self._contexts[symbol], self._clock())

    async def funding_history(
        self, symbol: str, start: datetime, end: datetime
    ) -> Sequence[FundingRate]:
        await self._known(symbol)
        body = {
            "type": "fundingHistory",
            "coin": symbol,
            "startTime": to_millis(start),
            "endTime": to_millis(end),
        }
        rates = parsing.funding_history(await self._info(body, _HEAVY), symbol)
        return [r for r in rates if start <= r.time <= end]

    async def open_interest(self, symbol: str) -> OpenInterest:
        await self._refresh_meta()
        if symbol not in self._contexts:
            raise UnknownSymbol(symbol)
        context = self._contexts[symbol]
        return OpenInterest(symbol, context.open_interest, self._clock())
