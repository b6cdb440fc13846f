"""A backtest's past market as replay ``Bars``: the market's closed candles of the range
(``market.history``, which reads the candle store and fills its gaps from the provider)
with the funding rate in effect at each bar's open, when the provider knows one; or, for
a symbol the user imported (``market.imported``), exactly the imported candles, with the
funding rates their file carried (none when it had no funding column). Which symbols are
imported is decided when the backtest is submitted (``sources``), so that a rerun reads
the same data.

It lives with the backtests, above the market and the replay in the layers, so the market
never needs the replay's types and the replay stays pure (it runs inside the sandbox).
Building the bars is CPU work over tens of thousands of candles: it runs off the loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.market import candle_store
from hyperoru.market.history import funding_per_bar, load_candles
from hyperoru.market.intervals import ceil_time, to_millis
from hyperoru.market.providers.base import Candle, MarketDataProvider
from hyperoru.offload import off_loop
from hyperoru.replay.bars import Bars
from hyperoru.timeutils import utcnow


def bars_of(symbol: str, candles: Sequence[Candle], funding: Sequence[float | None] | None) -> Bars:
    return Bars(
        symbol=symbol,
        times=[to_millis(c.open_time) for c in candles],
        open=[float(c.open) for c in candles],
        high=[float(c.high) for c in candles],
        low=[float(c.low) for c in candles],
        close=[float(c.close) for c in candles],
        volume=[float(c.volume) for c in candles],
        funding_rates=list(funding) if funding is not None else None,
    )


def _carried_funding(candles: Sequence[Candle]) -> list[float | None] | None:
    if all(c.funding_rate is None for c in candles):
        return None
    return [None if c.funding_rate is None else float(c.funding_rate) for c in candles]


async def load_bars(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    symbols: Sequence[str],
    interval: str,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    sources: Mapping[str, str] | None = None,
) -> dict[str, Bars]:
    """Each symbol's closed candles of ``interval`` opening in [start, end), with funding;
    a symbol in ``sources`` from that imported dataset alone.

    Raises ProviderError (``UnknownSymbol`` for a symbol the source does not list).
    """
    now = now or utcnow()
    loaded: dict[str, Bars] = {}
    for symbol in symbols:
        dataset = (sources or {}).get(symbol)
        if dataset is not None:
            async with sessionmaker() as session:
                imported = await candle_store.load_candles(
                    session,
                    dataset=dataset,
                    symbol=symbol,
                    interval=interval,
                    start=ceil_time(start, interval),
                    end=end,
                )
            loaded[symbol] = await off_loop(bars_of, symbol, imported, _carried_funding(imported))
            continue
        candles = await load_candles(
            sessionmaker, provider, symbol=symbol, interval=interval, start=start, end=end, now=now
        )
        funding = await funding_per_bar(provider, symbol, [c.open_time for c in candles], interval)
        loaded[symbol] = await off_loop(bars_of, symbol, candles, funding)
    return loaded
