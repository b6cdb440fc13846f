"""Market use cases behind the routers: prices from the cache, assets, candles, coverage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.errors import ApiError, validation_error
from hyperoru.market import candle_store, klines
from hyperoru.market.errors import provider_errors
from hyperoru.market.intervals import INTERVALS, is_interval
from hyperoru.market.price_cache import CachedPrice
from hyperoru.market.providers.base import AssetMeta, Candle
from hyperoru.market.runtime import MarketRuntime
from hyperoru.timeutils import utcnow

MAX_SYMBOLS_PER_REQUEST = 100


def normalise_symbol(symbol: str) -> str:
    return symbol.strip().upper()


async def known_assets(runtime: MarketRuntime, symbols: Sequence[str]) -> Mapping[str, AssetMeta]:
    """Every asset the source lists; 404 SYMBOL_NOT_FOUND naming each of ``symbols`` it
    does not (``details.symbols``)."""
    with provider_errors():
        known = await runtime.cache.assets()
    unknown = [s for s in dict.fromkeys(symbols) if s not in known]
    if unknown:
        raise ApiError(
            404,
            "SYMBOL_NOT_FOUND",
            f"Unknown symbol: {', '.join(unknown)}",
            details={"symbols": unknown},
        )
    return known


async def price(runtime: MarketRuntime, *, symbol: str) -> CachedPrice:
    with provider_errors():
        return await runtime.cache.price(normalise_symbol(symbol))


async def prices(runtime: MarketRuntime, *, symbols: str | None) -> dict[str, CachedPrice]:
    wanted = (
        [normalise_symbol(s) for s in symbols.split(",") if s.strip()]
        if symbols
        else list(runtime.cache.tracked)
    )
    if len(wanted) > MAX_SYMBOLS_PER_REQUEST:
        raise validation_error(f"at most {MAX_SYMBOLS_PER_REQUEST} symbols at once", "symbols")
    await known_assets(runtime, wanted)
    result: dict[str, CachedPrice] = {}
    with provider_errors():
        for symbol in dict.fromkeys(wanted):
            result[symbol] = await runtime.cache.price(symbol)
    return result


async def assets(runtime: MarketRuntime) -> Sequence[AssetMeta]:
    with provider_errors():
        return sorted((await runtime.cache.assets()).values(), key=lambda a: a.symbol)


async def candles(
    session: AsyncSession,
    runtime: MarketRuntime,
    *,
    symbol: str,
    interval: str,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> tuple[Sequence[Candle], klines.KlineWindow]:
    if not is_interval(interval):
        raise validation_error(f"interval must be one of {', '.join(INTERVALS)}", "interval")
    symbol = normalise_symbol(symbol)
    now = utcnow()
    window = klines.plan_window(interval=interval, start=start, end=end, limit=limit, now=now)
    with provider_errors():
        await runtime.cache.asset(symbol)
        rows = await klines.read_window(
            session, runtime.provider, symbol=symbol, interval=interval, window=window, now=now
        )
    await session.commit()
    return rows, window


async def coverage(session: AsyncSession, runtime: MarketRuntime) -> list[candle_store.Coverage]:
    return await candle_store.coverage(session, dataset=runtime.provider.dataset)
