"""/api/backtests and POST /api/programs/backtest: program backtests as jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.backtests import service
from hyperoru.backtests.dependencies import Answers, OwnedBacktest
from hyperoru.backtests.parts import Part, include_query, page_of
from hyperoru.backtests.presenters import (
    ALL_PARTS,
    backtest_answer,
    backtest_out,
    finished_curve,
    finished_trades,
    status_url,
    summary_out,
)
from hyperoru.backtests.results import EquityPoint, TradeOut, equity_out, trades_out
from hyperoru.backtests.schemas import BacktestCreate, BacktestOut, BacktestSummaryOut
from hyperoru.http.dependencies import AppSettings, DbSession, Sessionmaker
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.jobs.dependencies import Runner
from hyperoru.market.dependencies import Market
from hyperoru.programs.dependencies import ProgramSandbox
from hyperoru.ratelimit.dependencies import MINUTE, spend
from hyperoru.ratelimit.limiter import Budget

router = APIRouter(prefix="/api/backtests", tags=["backtests"])
programs_router = APIRouter(prefix="/api/programs", tags=["backtests"])

# Contract §12 shows the curve and the trades on GET /api/backtests/{id}: a script
# written against it reads them there, so they stay in by default. A poller asks for
# less (`?include=none`), or revalidates with If-None-Match (hyperoru.http.conditional).
Included = Annotated[frozenset[Part], Depends(include_query(ALL_PARTS, default=ALL_PARTS))]

_CREATED: dict[int | str, dict[str, Any]] = {
    202: {"description": "Queued; poll the status URL (also in `Location`)"}
}


async def _submit(
    body: BacktestCreate,
    request: Request,
    response: Response,
    user: CurrentUser,
    market: Market,
    db: DbSession,
    settings: AppSettings,
    runner: Runner,
    sandbox: ProgramSandbox,
) -> BacktestOut:
    await spend(request, Budget("jobs", settings.rate_limit_jobs_per_minute, MINUTE), str(user.id))
    record = await service.submit_backtest(
        db, market, user=user, data=body, settings=settings, sandbox=sandbox
    )
    runner.wake()
    response.headers["Location"] = status_url(record.backtest.id)
    return backtest_out(record)


router.add_api_route(
    "",
    _submit,
    methods=["POST"],
    status_code=202,
    response_model=BacktestOut,
    responses=_CREATED,
    summary="Queue a program backtest",
)
programs_router.add_api_route(
    "/backtest",
    _submit,
    methods=["POST"],
    status_code=202,
    response_model=BacktestOut,
    responses=_CREATED,
    summary="Queue a program backtest (documented alias of POST /api/backtests)",
)


@router.get("", response_model=list[BacktestSummaryOut])
async def list_backtests(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[BacktestSummaryOut]:
    """Newest first, without equity curves and trade lists (read one backtest for those)."""
    records = await service.list_backtests(db, user=user, window=window)
    return [summary_out(record) for record in records]


@router.get("/{backtest_id}", response_model=BacktestOut)
async def get_backtest(
    backtest_id: ResourceId,
    user: CurrentUser,
    sessions: Sessionmaker,
    include: Included,
    answers: Answers,
) -> Response:
    """Status and progress; once completed the metrics and fingerprint, and the parts
    ``include`` names (by default all: ``equity_curve``, ``trades``, ``logs``). Parts
    not included are absent from the answer."""
    kept = await answers.get(user_id=user.id, backtest_id=backtest_id, parts=include)
    if kept is not None:
        return Response(kept, media_type="application/json")
    version = await answers.version(user.id)
    # A session only on a miss: the poll dashboards repeat is answered from memory, and
    # a request-scoped session (a generator dependency) costs every poll its set-up.
    async with sessions() as db:
        record = await service.load_owned_backtest(
            db, user=user, backtest_id=backtest_id, parts=include
        )
    response = backtest_answer(record, include)
    answers.keep(
        owner_id=user.id,
        version=version,
        backtest_id=backtest_id,
        parts=include,
        status=record.job.status,
        body=bytes(response.body),
    )
    return response


@router.get("/{backtest_id}/trades", response_model=list[TradeOut])
async def list_trades(
    backtest_id: ResourceId,
    user: CurrentUser,
    db: DbSession,
    window: ListWindowQuery,
    response: Response,
) -> list[TradeOut]:
    """The round trips in order (empty until completed), paged with ``limit``/``offset``
    or ``page``/``per_page``; ``X-Total-Count`` is the length of the whole list."""
    record = await service.load_owned_backtest(
        db, user=user, backtest_id=backtest_id, parts={Part.TRADES}
    )
    trades = finished_trades(record)
    return trades_out(page_of(trades, window, response))


@router.get("/{backtest_id}/equity", response_model=list[EquityPoint])
async def list_equity(
    backtest_id: ResourceId,
    user: CurrentUser,
    db: DbSession,
    window: ListWindowQuery,
    response: Response,
) -> list[EquityPoint]:
    """The equity curve ``[{timestamp, equity}]`` in time order (empty until completed),
    paged like the trades."""
    record = await service.load_owned_backtest(
        db, user=user, backtest_id=backtest_id, parts={Part.EQUITY}
    )
    curve = finished_curve(record) or []
    return equity_out(page_of(curve, window, response))


@router.delete(
    "/{backtest_id}",
    response_model=BacktestOut,
    status_code=200,
    responses={
        200: {"description": "Was queued or running: now cancelled (its process is killed)"},
        204: {"description": "Was finished: deleted"},
    },
)
async def cancel_or_delete_backtest(
    record: OwnedBacktest,
    db: DbSession,
    runner: Runner,
    sandbox: ProgramSandbox,
    answers: Answers,
) -> BacktestOut | Response:
    owner_id = record.backtest.owner_id
    cancelled = await service.cancel_or_delete(db, runner, record=record, sandbox=sandbox)
    if cancelled is None:
        await answers.deleted(owner_id)
        return Response(status_code=204)
    return backtest_out(cancelled)
