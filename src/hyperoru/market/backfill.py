"""Kline backfill jobs: page through the provider's history into ``market_candles``.

A backfill is resumable by construction: each page is stored (existing rows kept) and
the cursor checkpointed in the same step, so a job cut off by a restart continues from
its last page instead of starting over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.errors import ApiError, forbidden, not_found, validation_error
from hyperoru.jobs import service as jobs
from hyperoru.jobs.models import Job
from hyperoru.jobs.runner import JobContext, JobFailed, JobHandler
from hyperoru.market import candle_store
from hyperoru.market.errors import provider_errors
from hyperoru.market.intervals import count_between, floor_time, is_interval, step
from hyperoru.market.models import KlineBackfill
from hyperoru.market.providers.base import MarketDataProvider, UnknownSymbol
from hyperoru.market.runtime import MarketRuntime
from hyperoru.timeutils import utcnow

BACKFILL_KIND = "klines_backfill"
# One job covers at most this many candles (about 139 days of 1m candles).
MAX_BACKFILL_CANDLES = 200_000
DEFAULT_BACKFILL_DAYS = 30
_VENUES = frozenset({"sim", "hyperliquid", "binance"})
_ENVIRONMENTS = frozenset({"mainnet", "testnet", "simulated"})


@dataclass(frozen=True, slots=True)
class BackfillRequest:
    symbol: str
    interval: str | None
    start: datetime | None
    end: datetime | None
    exchange: str | None
    environment: str | None


def source_mismatch(runtime: MarketRuntime, field: str, requested: str) -> ApiError:
    """The request names a market data source this server does not read: answered, never
    run on another source (a "hyperliquid" backfill filled from the sim would store
    simulated candles under a real venue's name)."""
    source, environment = runtime.provider.name, runtime.environment
    return ApiError(
        422,
        "MARKET_SOURCE_MISMATCH",
        f"This server reads market data from {source} ({environment}), not {requested}: "
        f"send exchange {source!r} (or leave exchange and environment out), or run the "
        "server with HYPERORU_MARKET_DATA set to the source you want",
        details={
            "field": field,
            "requested": requested,
            "exchange": source,
            "environment": environment,
        },
    )


def _check_source(runtime: MarketRuntime, exchange: str | None, environment: str | None) -> None:
    """A backfill reads this server's own source; naming another one is refused."""
    if exchange is not None:
        if exchange.lower() not in _VENUES:
            raise validation_error("exchange must be hyperliquid, binance or sim", "exchange")
        if exchange.lower() != runtime.provider.name:
            raise source_mismatch(runtime, "exchange", exchange.lower())
    if environment is not None:
        if environment.lower() not in _ENVIRONMENTS:
            raise validation_error(
                "environment must be mainnet, testnet (or simulated)", "environment"
            )
        if environment.lower() != runtime.environment:
            raise source_mismatch(runtime, "environment", environment.lower())


@dataclass(frozen=True, slots=True)
class Backfill:
    """A backfill as the API numbers it (``id``) and the job that runs it."""

    id: int
    job: Job


async def create_backfill(
    session: AsyncSession,
    runtime: MarketRuntime,
    *,
    owner_id: int,
    request: BackfillRequest,
    max_attempts: int,
) -> Backfill:
    symbol = request.symbol.strip().upper()
    interval = request.interval or "1h"
    if not is_interval(interval):
        raise validation_error("interval must be one of 1m, 5m, 15m, 1h, 4h, 1d", "interval")
    _check_source(runtime, request.exchange, request.environment)
    with provider_errors():
        await runtime.cache.asset(symbol)
    # Only closed candles are stored: the one still forming would change after the fact.
    closed_end = floor_time(utcnow(), interval)
    end = min(request.end or closed_end, closed_end)
    start = request.start or end - timedelta(days=DEFAULT_BACKFILL_DAYS)
    if start >= end:
        raise validation_error("start must be before end (and before the current candle)", "start")
    if count_between(start, end, interval) > MAX_BACKFILL_CANDLES:
        raise validation_error(
            f"range too large: at most {MAX_BACKFILL_CANDLES} candles per backfill", "start"
        )
    job = await jobs.create_job(
        session,
        kind=BACKFILL_KIND,
        owner_id=owner_id,
        params={
            "symbol": symbol,
            "interval": interval,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "dataset": runtime.provider.dataset,
            "exchange": runtime.provider.name,
            "environment": runtime.environment,
        },
        max_attempts=max_attempts,
    )
    number = KlineBackfill(job_id=job.id)
    session.add(number)
    await session.commit()
    return Backfill(number.id, job)


def _with_jobs() -> Select[KlineBackfill, Job]:
    return (
        select(KlineBackfill, Job)
        .join(Job, Job.id == KlineBackfill.job_id)
        .execution_options(populate_existing=True)
    )


async def get_backfill(session: AsyncSession, *, owner_id: int, backfill_id: int) -> Backfill:
    """The caller's backfill by its own number: another user's is 403, a missing one 404."""
    row = (await session.execute(_with_jobs().where(KlineBackfill.id == backfill_id))).first()
    if row is None:
        raise not_found("job")
    number, job = row
    if job.owner_id != owner_id:
        raise forbidden()
    return Backfill(number.id, job)


async def list_backfills(
    session: AsyncSession, *, owner_id: int, limit: int, offset: int
) -> list[Backfill]:
    rows = await session.execute(
        _with_jobs()
        .where(Job.owner_id == owner_id)
        .order_by(KlineBackfill.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [Backfill(number.id, job) for number, job in rows]


def rows_written(job: Job) -> int:
    source: Mapping[str, Any] = job.result or job.checkpoint or {}
    return int(source.get("rows_written", 0))


def backfill_handler(
    provider: MarketDataProvider, sessionmaker: async_sessionmaker[AsyncSession]
) -> JobHandler:
    async def run(context: JobContext) -> Mapping[str, Any]:
        params = context.params
        if params["dataset"] != provider.dataset:
            raise JobFailed(f"queued for {params['dataset']}, this server reads {provider.dataset}")
        symbol, interval = params["symbol"], params["interval"]
        start = datetime.fromisoformat(params["start"])
        end = datetime.fromisoformat(params["end"])
        cursor = datetime.fromisoformat(context.checkpoint.get("cursor", params["start"]))
        written = int(context.checkpoint.get("rows_written", 0))
        span = (end - start).total_seconds()
        # An empty page can mean a hole in the venue's history (or data older than it
        # keeps): skip one page width ahead rather than stop.
        hop = step(interval) * provider.candle_page_size
        while cursor < end:
            try:
                page = await provider.candles(symbol, interval, cursor, end)
            except UnknownSymbol as exc:
                raise JobFailed(f"unknown symbol {symbol}") from exc
            async with sessionmaker() as session:
                await candle_store.save_candles(
                    session,
                    dataset=provider.dataset,
                    symbol=symbol,
                    interval=interval,
                    candles=page,
                )
                await session.commit()
            written += len(page)
            cursor = page[-1].open_time + step(interval) if page else cursor + hop
            done = min(1.0, (cursor - start).total_seconds() / span) if span > 0 else 1.0
            await context.progress(
                round(done * 100, 2),
                {"cursor": min(cursor, end).isoformat(), "rows_written": written},
            )
        return {"rows_written": written}

    return run
