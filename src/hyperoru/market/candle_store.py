"""Reading and writing stored candles (the ``market_candles`` table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.market.models import StoredCandle
from hyperoru.market.providers.base import Candle

_KEY = ["exchange", "symbol", "interval", "open_time"]


async def save_candles(
    session: AsyncSession, *, dataset: str, symbol: str, interval: str, candles: Sequence[Candle]
) -> None:
    """Insert closed candles; rows already stored are kept (flushes, does not commit)."""
    if not candles:
        return
    rows = [
        {
            "exchange": dataset,
            "symbol": symbol,
            "interval": interval,
            "open_time": c.open_time,
            "open": c.open,
            "high": c.high,
            "low": c.low,
            "close": c.close,
            "volume": c.volume,
            "funding_rate": c.funding_rate,
        }
        for c in candles
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Rows as parameters of one cached statement (batched by SQLAlchemy), not a statement
    # of a thousand literal VALUES compiled anew on the event loop: 8x less loop time.
    await session.execute(insert(StoredCandle).on_conflict_do_nothing(index_elements=_KEY), rows)


async def load_candles(
    session: AsyncSession,
    *,
    dataset: str,
    symbol: str,
    interval: str,
    start: datetime,
    end: datetime,
) -> list[Candle]:
    # Plain columns rather than ORM objects: a cycle reads hundreds of candles, and
    # building (then discarding) tracked objects for them tripled the time the event loop
    # spent on each read.
    query = (
        select(
            StoredCandle.open_time,
            StoredCandle.open,
            StoredCandle.high,
            StoredCandle.low,
            StoredCandle.close,
            StoredCandle.volume,
            StoredCandle.funding_rate,
        )
        .where(
            StoredCandle.exchange == dataset,
            StoredCandle.symbol == symbol,
            StoredCandle.interval == interval,
            StoredCandle.open_time >= start,
            StoredCandle.open_time < end,
        )
        .order_by(StoredCandle.open_time)
    )
    return [Candle(*row) for row in (await session.execute(query)).all()]


@dataclass(frozen=True, slots=True)
class Coverage:
    symbol: str
    interval: str
    earliest: datetime
    latest: datetime
    total_candles: int


async def coverage(session: AsyncSession, *, dataset: str) -> list[Coverage]:
    query = (
        select(
            StoredCandle.symbol,
            StoredCandle.interval,
            func.min(StoredCandle.open_time),
            func.max(StoredCandle.open_time),
            func.count(),
        )
        .where(StoredCandle.exchange == dataset)
        .group_by(StoredCandle.symbol, StoredCandle.interval)
        .order_by(StoredCandle.symbol, StoredCandle.interval)
    )
    rows = (await session.execute(query)).all()
    return [Coverage(*row) for row in rows]
