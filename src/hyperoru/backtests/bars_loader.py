"""A backtest's past market as replay ``Bars``: the market's closed candles of the range
(``market.history``, which reads the candle store and fills its gaps from the provider)
with the funding rate in effect at each bar's open, when the provider knows one.

It lives with the backtests, above the market and the replay in the layers, so the market
never needs the replay's types and the replay stays pure (it runs inside the sandbox).
Building the bars is CPU work over tens of thousands of candles: it runs off the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.market.history import funding_per_bar, load_candles
from hyperoru.market.intervals import to_millis
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


async def load_bars(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    symbols: Sequence[str],
    interval: str,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> dict[str, Bars]:
    """Each symbol's closed candles of ``interval`` opening in [start, end), with funding.

    Raises ProviderError (``UnknownSymbol`` for a symbol the source does not list).
    """
    now = now or utcnow()
    loaded: dict[str, Bars] = {}
    for symbol in symbols:
        candles = await load_candles(
            sessionmaker, provider, symbol=symbol, interval=interval, start=start, end=end, now=now
        )
        funding = await funding_per_bar(provider, symbol, [c.open_time for c in candles], interval)
        loaded[symbol] = await off_loop(bars_of, symbol, candles, funding)
    return loaded
