"""Candles users bring themselves: stored, found and exported.

Imported candles live in the candle store next to fetched ones, under their own dataset
so they never mix with a provider's: ``imported-u<user id>`` for a user's own (the
upload route, or ``hyperoru candles import --user``), ``imported`` for the operator's
(``hyperoru candles import`` without ``--user``), which every user's backtests may read.

A backtest of a symbol and interval reads the user's own imported candles when they
have any, else the operator's, else the server's market data. So a user may backtest a
symbol the market does not list (``MYCOIN``), or their own history of one it does, and
nobody else sees what they uploaded. Imported candles carry the funding rates of their
file's optional ``hourly_funding_rate`` column (an export writes it), and none without it.

An import replaces what the same dataset held for the symbol and interval between the
file's first and last candle, in one transaction: re-importing a corrected file fixes it.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import IO

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.db.dml import rows_changed
from hyperoru.errors import validation_error
from hyperoru.market import candle_store, history
from hyperoru.market.candle_files import (
    PARQUET_MAGIC,
    CandleFileError,
    FileFormat,
    FileSummary,
    checked_candles,
    normalise_symbol,
    read_rows,
    summarise,
)
from hyperoru.market.errors import candle_file_errors
from hyperoru.market.intervals import INTERVALS, ceil_time, is_interval
from hyperoru.market.models import StoredCandle
from hyperoru.market.providers.base import Candle, MarketDataProvider
from hyperoru.offload import off_loop
from hyperoru.timeutils import utcnow

SHARED_DATASET = "imported"
_BATCH = 1000
# An upload is kept in memory up to this size, then in a temporary file.
_SPOOL_BYTES = 1024 * 1024
UPLOAD_MEDIA_TYPES: dict[str, FileFormat | None] = {
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    # Told apart by Parquet's magic bytes.
    "application/octet-stream": None,
}


def user_dataset(owner_id: int) -> str:
    return f"imported-u{owner_id}"


def dataset_for(owner_id: int | None) -> str:
    return SHARED_DATASET if owner_id is None else user_dataset(owner_id)


def readable_datasets(owner_id: int | None) -> tuple[str, ...]:
    """Where a backtest of ``owner_id`` looks for imported candles, first match wins."""
    if owner_id is None:
        return (SHARED_DATASET,)
    return (user_dataset(owner_id), SHARED_DATASET)


@dataclass(frozen=True, slots=True)
class ImportResult:
    symbol: str
    interval: str
    dataset: str
    candles: int
    first: datetime
    last: datetime
    replaced: int


def _take(candles: Iterator[Candle], count: int) -> list[Candle]:
    return list(islice(candles, count))


async def import_candles(
    session: AsyncSession,
    *,
    owner_id: int | None,
    symbol: str,
    interval: str,
    open_candles: Callable[[], Iterator[Candle]],
) -> ImportResult:
    """Check every candle of ``open_candles()`` first (raises CandleFileError with the
    line), then store them; ``open_candles`` is called twice, so that a large file is
    never held in memory. Commits."""
    summary: FileSummary = await off_loop(summarise, open_candles())
    dataset = dataset_for(owner_id)
    replaced = await rows_changed(
        session,
        delete(StoredCandle).where(
            StoredCandle.exchange == dataset,
            StoredCandle.symbol == symbol,
            StoredCandle.interval == interval,
            StoredCandle.open_time >= summary.first,
            StoredCandle.open_time <= summary.last,
        ),
    )
    candles = open_candles()
    while batch := await off_loop(_take, candles, _BATCH):
        await candle_store.save_candles(
            session, dataset=dataset, symbol=symbol, interval=interval, candles=batch
        )
    await session.commit()
    return ImportResult(
        symbol=symbol,
        interval=interval,
        dataset=dataset,
        candles=summary.candles,
        first=summary.first,
        last=summary.last,
        replaced=replaced,
    )


async def imported_source(
    session: AsyncSession, *, owner_id: int | None, symbol: str, interval: str
) -> str | None:
    """The dataset a backtest of ``owner_id`` reads ``symbol``'s ``interval`` candles
    from, or None for the server's market data."""
    for dataset in readable_datasets(owner_id):
        found = await session.scalar(
            select(StoredCandle.id)
            .where(
                StoredCandle.exchange == dataset,
                StoredCandle.symbol == symbol,
                StoredCandle.interval == interval,
            )
            .limit(1)
        )
        if found is not None:
            return dataset
    return None


async def imported_sources(
    session: AsyncSession, *, owner_id: int | None, symbols: Sequence[str], interval: str
) -> dict[str, str]:
    """Symbol → imported dataset, for those of ``symbols`` that have one."""
    sources: dict[str, str] = {}
    for symbol in dict.fromkeys(symbols):
        dataset = await imported_source(
            session, owner_id=owner_id, symbol=symbol, interval=interval
        )
        if dataset is not None:
            sources[symbol] = dataset
    return sources


async def remove(
    session: AsyncSession, *, owner_id: int | None, symbol: str, interval: str | None
) -> int:
    """Delete a user's (or the operator's, None) imported candles of ``symbol``, of one
    interval or all; answers how many went. Commits. A backtest reads its imported
    symbols when it runs, from the dataset chosen at submission: one still queued over
    deleted candles fails for want of candles, never silently on other data."""
    conditions = [StoredCandle.exchange == dataset_for(owner_id), StoredCandle.symbol == symbol]
    if interval is not None:
        conditions.append(StoredCandle.interval == interval)
    removed = await rows_changed(session, delete(StoredCandle).where(*conditions))
    await session.commit()
    return removed


async def coverage(session: AsyncSession, *, owner_id: int | None) -> list[candle_store.Coverage]:
    """What a user has imported (their own dataset only), or the operator (None)."""
    return await candle_store.coverage(session, dataset=dataset_for(owner_id))


def checked_target(symbol: str, interval: str) -> tuple[str, str]:
    """The symbol (upper case) and interval an import may store under; 400 naming the
    field otherwise."""
    if not is_interval(interval):
        raise validation_error(f"interval must be one of {', '.join(INTERVALS)}", "interval")
    return checked_symbol(symbol), interval


def checked_selection(symbol: str, interval: str | None) -> tuple[str, str | None]:
    """A symbol and an optional interval to delete (``remove``); 400 like
    ``checked_target``."""
    if interval is None:
        return checked_symbol(symbol), None
    return checked_target(symbol, interval)


def checked_symbol(symbol: str) -> str:
    """The symbol in upper case; 400 naming the field when no import could store it."""
    try:
        return normalise_symbol(symbol)
    except CandleFileError as exc:
        raise validation_error(exc.message, "symbol") from None


async def import_file(
    session: AsyncSession,
    *,
    owner_id: int | None,
    symbol: str,
    interval: str,
    binary: IO[bytes],
    file_format: FileFormat,
    now: datetime | None = None,
) -> ImportResult:
    """Import a seekable binary file of candles. Raises 400 VALIDATION_ERROR (symbol,
    interval), 400 CANDLE_FILE_INVALID (with the line), 501 PARQUET_UNAVAILABLE."""
    symbol, interval = checked_target(symbol, interval)
    moment = now or utcnow()

    def open_candles() -> Iterator[Candle]:
        binary.seek(0)
        return checked_candles(read_rows(binary, file_format), interval=interval, now=moment)

    with candle_file_errors():
        return await import_candles(
            session, owner_id=owner_id, symbol=symbol, interval=interval, open_candles=open_candles
        )


async def spool(chunks: AsyncIterable[bytes]) -> IO[bytes]:
    """An upload's body in a seekable file (memory, then disk past 1 MiB); the caller
    closes it."""
    spooled = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
    try:
        async for chunk in chunks:
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def upload_format(media_type: str, binary: IO[bytes]) -> FileFormat:
    """The format of an upload sent as ``media_type`` (an allowed one)."""
    declared = UPLOAD_MEDIA_TYPES[media_type]
    if declared is not None:
        return declared
    head = binary.read(len(PARQUET_MAGIC))
    binary.seek(0)
    return "parquet" if head == PARQUET_MAGIC else "csv"


async def candles_for_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    *,
    owner_id: int | None,
    symbol: str,
    interval: str,
    start: datetime,
    end: datetime,
) -> tuple[str, list[Candle]]:
    """The candles a backtest of ``owner_id`` would read for ``symbol`` in [start, end)
    (imported ones, else the market's, fetched and stored where missing, with the funding
    rate a backtest charges at each open), and the dataset they came from. Raises
    ProviderError for a symbol the market does not list."""
    symbol, interval = checked_target(symbol, interval)
    async with sessionmaker() as session:
        dataset = await imported_source(
            session, owner_id=owner_id, symbol=symbol, interval=interval
        )
        if dataset is not None:
            candles = await candle_store.load_candles(
                session,
                dataset=dataset,
                symbol=symbol,
                interval=interval,
                start=ceil_time(start, interval),
                end=end,
            )
            return dataset, candles
    fetched = await history.load_candles(
        sessionmaker, provider, symbol=symbol, interval=interval, start=start, end=end
    )
    rates = await history.funding_rates_at(
        provider, symbol, [c.open_time for c in fetched], interval
    )
    if rates is not None:
        fetched = [replace(c, funding_rate=r) for c, r in zip(fetched, rates, strict=True)]
    return provider.dataset, fetched
