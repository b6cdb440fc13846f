"""Past candles for backtests: from the candle store where it covers the range, the rest
fetched from the provider (and stored, like any read of closed candles); ``replay.history``
turns them into ``Bars``.

Only candles that closed by ``now`` are returned: a backtest never sees one still forming.
Funding is attached per bar as the hourly rate in effect when the bar opened, when the
provider has a funding history (the simulated market always does).

Turning tens of thousands of candles into ``Bars`` and finding each bar's funding rate run
off the event loop (``hyperoru.offload``).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.market import klines
from hyperoru.market.intervals import ceil_time, step
from hyperoru.market.providers.base import (
    Candle,
    FundingRate,
    MarketDataProvider,
    ProviderError,
    UnknownSymbol,
)
from hyperoru.offload import off_loop
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.market.history")

# Candles per read: one provider page, and well under the bind-parameter limit of one
# multi-row INSERT on SQLite and PostgreSQL.
_CHUNK = 1000


async def load_candles(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    symbol: str,
    interval: str,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> list[Candle]:
    """Closed candles opening in [start, end), oldest first. Raises ProviderError."""
    now = now or utcnow()
    width = step(interval)
    closed_by = now - width  # a candle opening after this has not closed yet
    candles: list[Candle] = []
    cursor = ceil_time(start, interval)
    while cursor < end:
        chunk_end = min(end, cursor + width * _CHUNK)
        window = klines.KlineWindow(cursor, chunk_end, capped=False, next_start=None)
        async with sessionmaker() as session:
            page = await klines.read_window(
                session, provider, symbol=symbol, interval=interval, window=window, now=now
            )
            await session.commit()
        candles.extend(c for c in page if c.open_time <= closed_by)
        cursor = chunk_end
    return candles


async def _funding_history(
    provider: MarketDataProvider, symbol: str, start: datetime, end: datetime
) -> list[FundingRate]:
    rates: list[FundingRate] = []
    cursor = start
    while cursor < end:
        page = await provider.funding_history(symbol, cursor, end)
        if not page:
            break
        rates.extend(page)
        cursor = page[-1].time + timedelta(seconds=1)
    return rates


async def funding_per_bar(
    provider: MarketDataProvider, symbol: str, opens: Sequence[datetime], interval: str
) -> list[float | None] | None:
    """The hourly funding rate in effect at each bar's open, or None when unknown."""
    rates = await funding_rates_at(provider, symbol, opens, interval)
    return None if rates is None else [None if r is None else float(r) for r in rates]


async def funding_rates_at(
    provider: MarketDataProvider, symbol: str, opens: Sequence[datetime], interval: str
) -> list[Decimal | None] | None:
    """``funding_per_bar``'s rates as exact decimals (what an export writes, so that its
    import charges the same floats)."""
    if not opens:
        return None
    try:
        # From one funding period before the first bar, so that it has a rate in effect.
        history = await _funding_history(
            provider, symbol, opens[0] - timedelta(hours=8), opens[-1] + step(interval)
        )
    except UnknownSymbol:
        raise
    except ProviderError as exc:
        log.warning(
            "no funding history for the backtest", extra={"symbol": symbol, "error": str(exc)}
        )
        return None
    if not history:
        return None
    # A backtest spans up to tens of thousands of bars: looked up off the event loop.
    return await off_loop(_rates_in_effect, history, opens)


def _rates_in_effect(
    history: Sequence[FundingRate], opens: Sequence[datetime]
) -> list[Decimal | None]:
    times = [rate.time for rate in history]
    per_bar: list[Decimal | None] = []
    for opened in opens:
        at = bisect.bisect_right(times, opened) - 1
        if at < 0:
            per_bar.append(None)
        else:
            rate = history[at]
            # Exact for periods of 1, 2, 4 or 8 hours, so the float is the one an
            # exported-then-imported rate gives.
            per_bar.append(rate.rate / max(1, rate.interval_hours))
    return per_bar
