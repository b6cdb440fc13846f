"""/api/crypto (prices, symbols) and /api/klines (candles, coverage, backfill jobs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hyperoru.api_types import MAX_ID
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.errors import ApiError, not_found, validation_error
from hyperoru.http.dependencies import AppSettings, DbSession
from hyperoru.market import backfill, imported, service
from hyperoru.market.dependencies import Market, Paging
from hyperoru.market.klines import DEFAULT_LIMIT, MAX_LIMIT
from hyperoru.market.schemas import (
    AssetOut,
    BackfillJobOut,
    BackfillRequest,
    CoverageOut,
    ImportOut,
    ImportRemovedOut,
    KlineOut,
    PriceOut,
    SupportedSymbolsOut,
)
from hyperoru.market.timeparse import parse_moment
from hyperoru.ratelimit.dependencies import MINUTE, spend
from hyperoru.ratelimit.limiter import Budget

crypto_router = APIRouter(prefix="/api/crypto", tags=["market"])
klines_router = APIRouter(prefix="/api/klines", tags=["klines"])

_SYMBOL = Query(min_length=1, max_length=32, description="Coin name as on Hyperliquid, e.g. BTC")


@crypto_router.get("/price", response_model=PriceOut)
async def price_by_query(market: Market, symbol: Annotated[str, _SYMBOL]) -> PriceOut:
    return PriceOut.from_cached(await service.price(market, symbol=symbol))


@crypto_router.get("/price/{symbol}", response_model=PriceOut)
async def price_by_path(market: Market, symbol: str) -> PriceOut:
    return PriceOut.from_cached(await service.price(market, symbol=symbol))


@crypto_router.get("/prices", response_model=dict[str, PriceOut])
async def prices(
    market: Market,
    symbols: Annotated[str | None, Query(max_length=2000, examples=["BTC,ETH"])] = None,
) -> dict[str, PriceOut]:
    found = await service.prices(market, symbols=symbols)
    return {symbol: PriceOut.from_cached(cached) for symbol, cached in found.items()}


@crypto_router.get("/symbols", response_model=list[AssetOut])
async def symbols(market: Market) -> list[AssetOut]:
    return [AssetOut.model_validate(asset) for asset in await service.assets(market)]


@klines_router.get(
    "/data",
    response_model=list[KlineOut],
    responses={
        200: {
            "description": "Candles, oldest first",
            "headers": {
                "X-Klines-Capped": {
                    "description": "'true' when the range held more than `limit` candles",
                    "schema": {"type": "string"},
                },
                "X-Klines-Limit": {
                    "description": "The limit that cut the range",
                    "schema": {"type": "integer"},
                },
                "X-Klines-Next-Start": {
                    "description": "Open time of the first candle left out: the next start",
                    "schema": {"type": "string", "format": "date-time"},
                },
            },
        }
    },
)
async def kline_data(
    response: Response,
    market: Market,
    db: DbSession,
    symbol: Annotated[str, _SYMBOL],
    interval: Annotated[str, Query(max_length=8)] = "1h",
    start: Annotated[str | None, Query(max_length=64)] = None,
    end: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> list[KlineOut]:
    rows, window = await service.candles(
        db,
        market,
        symbol=symbol,
        interval=interval,
        start=parse_moment(start, "start"),
        end=parse_moment(end, "end"),
        limit=limit,
    )
    if window.capped and window.next_start is not None:
        response.headers["X-Klines-Capped"] = "true"
        response.headers["X-Klines-Limit"] = str(limit)
        response.headers["X-Klines-Next-Start"] = window.next_start.isoformat().replace(
            "+00:00", "Z"
        )
    return [
        KlineOut(
            timestamp=c.open_time,
            open=c.open,
            high=c.high,
            low=c.low,
            close=c.close,
            volume=c.volume,
        )
        for c in rows
    ]


@klines_router.get("/coverage", response_model=list[CoverageOut])
async def kline_coverage(market: Market, db: DbSession) -> list[CoverageOut]:
    return [CoverageOut.model_validate(c) for c in await service.coverage(db, market)]


@klines_router.get("/supported-symbols", response_model=SupportedSymbolsOut)
async def supported_symbols(market: Market) -> SupportedSymbolsOut:
    return SupportedSymbolsOut(symbols=[a.symbol for a in await service.assets(market)])


def _status_url(backfill_id: int) -> str:
    return f"/api/klines/backfill/status/{backfill_id}"


def _job_out(backfill_job: backfill.Backfill) -> BackfillJobOut:
    job = backfill_job.job
    params = job.params
    return BackfillJobOut(
        id=backfill_job.id,
        # Ignored: Job.status is any JobStatus; backfills are never cancelled, and the model
        # still checks the value when it is built.
        status=job.status,  # type: ignore[arg-type]
        symbol=params["symbol"],
        interval=params["interval"],
        period=params["interval"],
        exchange=params["exchange"],
        environment=params["environment"],
        start=params["start"],
        end=params["end"],
        progress_pct=job.progress_pct,
        rows_written=backfill.rows_written(job),
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        status_url=_status_url(backfill_job.id),
    )


@klines_router.post("/backfill", status_code=202, response_model=BackfillJobOut)
async def start_backfill(
    body: BackfillRequest,
    request: Request,
    response: Response,
    user: CurrentUser,
    market: Market,
    db: DbSession,
    settings: AppSettings,
) -> BackfillJobOut:
    await spend(request, Budget("jobs", settings.rate_limit_jobs_per_minute, MINUTE), str(user.id))
    if body.interval and body.period and body.interval != body.period:
        raise validation_error("interval and period disagree; send one of them", "interval")
    created = await backfill.create_backfill(
        db,
        market,
        owner_id=user.id,
        request=backfill.BackfillRequest(
            symbol=body.symbol,
            interval=body.interval or body.period,
            start=parse_moment(body.start_date or body.start, "start_date"),
            end=parse_moment(body.end_date or body.end, "end_date"),
            exchange=body.exchange,
            environment=body.environment,
        ),
        max_attempts=settings.jobs_max_attempts,
    )
    request.app.state.services.jobs.wake()
    response.headers["Location"] = _status_url(created.id)
    return _job_out(created)


@klines_router.get("/backfill-tasks", response_model=list[BackfillJobOut])
async def backfill_tasks(user: CurrentUser, db: DbSession, paging: Paging) -> list[BackfillJobOut]:
    found = await backfill.list_backfills(
        db, owner_id=user.id, limit=paging.limit, offset=paging.offset
    )
    return [_job_out(one) for one in found]


@klines_router.get("/backfill/status/{task_id}", response_model=BackfillJobOut)
async def backfill_status(task_id: str, user: CurrentUser, db: DbSession) -> BackfillJobOut:
    # Ids are integers, counted per backfill (not shared with backtests); the documented
    # "bf-12" form is accepted too.
    digits = task_id.removeprefix("bf-")
    if (
        not (digits.isascii() and digits.isdigit())
        or len(digits) > 10
        or not 1 <= int(digits) <= MAX_ID
    ):
        raise not_found("job")
    return _job_out(await backfill.get_backfill(db, owner_id=user.id, backfill_id=int(digits)))


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@klines_router.post(
    "/import",
    status_code=201,
    response_model=ImportOut,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    description=(
        "Store your own candles (CSV or Parquet, the file as the body, up to 64 MiB) for "
        "your backtests. CSV: a header naming timestamp, open, high, low, close and "
        "optionally volume and hourly_funding_rate (the rate per hour in effect at the open, as "
        "`hyperoru candles export` writes it; without it no funding is charged) (an unnamed "
        "first column, as pandas writes its index, is the time), "
        "or no header and those columns in that order; a time without a zone is UTC. "
        "Candles must be "
        "sorted, without duplicates, closed, on the interval's grid, with low <= open, "
        "close <= high, positive prices and volume >= 0; the first bad line is named in "
        "`details.line` (`details.row` for Parquet). Stored for you alone; replaces your "
        "candles of the symbol and interval between the file's first and last."
    ),
)
async def import_klines(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    settings: AppSettings,
    symbol: Annotated[str, Query(max_length=32, examples=["MYCOIN"])],
    interval: Annotated[str, Query(max_length=8, examples=["1h"])],
) -> ImportOut:
    await spend(request, Budget("jobs", settings.rate_limit_jobs_per_minute, MINUTE), str(user.id))
    imported.checked_target(symbol, interval)  # refuse before reading the body
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in imported.UPLOAD_MEDIA_TYPES:
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the file with Content-Type: text/csv or application/vnd.apache.parquet",
        )
    upload = await imported.spool(request.stream())
    try:
        result = await imported.import_file(
            db,
            owner_id=user.id,
            symbol=symbol,
            interval=interval,
            binary=upload,
            file_format=imported.upload_format(media_type, upload),
        )
    finally:
        upload.close()
    return ImportOut.of(result)


@klines_router.get("/imported", response_model=list[CoverageOut])
async def imported_coverage(user: CurrentUser, db: DbSession) -> list[CoverageOut]:
    """What you have imported: each symbol and interval with its first and last candle."""
    return [CoverageOut.model_validate(c) for c in await imported.coverage(db, owner_id=user.id)]


@klines_router.delete("/imported", response_model=ImportRemovedOut)
async def delete_imported(
    user: CurrentUser,
    db: DbSession,
    symbol: Annotated[str, Query(max_length=32, examples=["MYCOIN"])],
    interval: Annotated[
        str | None, Query(max_length=8, description="Only this interval (default: all)")
    ] = None,
) -> ImportRemovedOut:
    """Delete candles you imported: one symbol, of one interval or all. 404 when you have
    none of them. Other users' imports and the server's market data are never touched."""
    symbol, interval = imported.checked_selection(symbol, interval)
    removed = await imported.remove(db, owner_id=user.id, symbol=symbol, interval=interval)
    if removed == 0:
        which = symbol if interval is None else f"{symbol} {interval}"
        raise not_found("candles", f"You have no imported candles of {which}")
    return ImportRemovedOut(symbol=symbol, interval=interval, removed=removed)
