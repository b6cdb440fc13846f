"""/api/prompt-backtests, and /api/prompt-backtest/tasks as the generated reference spells
it: submit (202), poll, list, read the snapshots, cancel or delete."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.backtests.parts import Part, answer, include_query, page_of
from hyperoru.backtests.results import (
    EquityPoint,
    TradeOut,
    equity_out,
    metric_values,
    result_fields,
    trades_out,
)
from hyperoru.http.dependencies import AppSettings, DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.jobs.dependencies import Runner
from hyperoru.jobs.models import JobStatus
from hyperoru.market.dependencies import Market
from hyperoru.paging import ListWindow
from hyperoru.prompt_backtests import service
from hyperoru.prompt_backtests.models import PromptBacktestSnapshot
from hyperoru.prompt_backtests.schemas import (
    PromptBacktestCreate,
    PromptBacktestDetailOut,
    PromptBacktestOut,
    SnapshotDetailOut,
    SnapshotOut,
)
from hyperoru.ratelimit.dependencies import MINUTE, spend
from hyperoru.ratelimit.limiter import Budget

router = APIRouter(prefix="/api/prompt-backtests", tags=["prompt backtests"])
tasks_router = APIRouter(prefix="/api/prompt-backtest/tasks", tags=["prompt backtests"])

# Snapshots shown inline in one backtest's answer; the rest are paged at snapshots_url.
INLINE_SNAPSHOTS = 100
# The parts an answer can carry, by the field that holds each. No documented shape shows
# them on the status route, so a poll carries none unless ``include`` names them.
PARTS = {Part.TRADES: "trades", Part.EQUITY: "equity_curve", Part.DECISIONS: "decisions"}
Included = Annotated[frozenset[Part], Depends(include_query(frozenset(PARTS), default=frozenset()))]


def _status_url(backtest_id: int) -> str:
    return f"/api/prompt-backtests/{backtest_id}"


def _fields(task: service.Task) -> dict[str, Any]:
    job, backtest = task.job, task.backtest
    config = backtest.config
    result = job.result or {}
    metrics = result.get("metrics")
    url = _status_url(job.id)
    fields: dict[str, Any] = {
        "id": job.id,
        "task_id": job.id,
        "status": job.status,
        "progress": job.progress_pct,
        "progress_pct": job.progress_pct,
        "sample_count": backtest.sample_count,
        "snapshots_done": backtest.snapshots_done,
        "account_id": backtest.account_id,
        "trader_id": backtest.account_id,
        "prompt_id": backtest.prompt_id,
        "prompt_name": backtest.prompt_name,
        "symbols": config["symbols"],
        "interval": config["interval"],
        "start_date": config["start_date"],
        "end_date": config["end_date"],
        "initial_balance": config["initial_balance"],
        "config": config,
        "dataset": backtest.dataset,
        "llm_provider": backtest.llm_provider,
        "llm_model": backtest.llm_model,
        "calls": backtest.calls,
        "cached_calls": backtest.cached_calls,
        "failed_snapshots": backtest.failed_snapshots,
        "prompt_tokens": backtest.prompt_tokens,
        "completion_tokens": backtest.completion_tokens,
        "total_tokens": backtest.prompt_tokens + backtest.completion_tokens,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.error,
        "status_url": url,
        "snapshots_url": f"{url}/snapshots",
        "trades_url": f"{url}/trades",
        "equity_url": f"{url}/equity",
        "metrics": None if metrics is None else metric_values(metrics),
        **result_fields(result),
    }
    return fields


def _out(task: service.Task) -> PromptBacktestOut:
    return PromptBacktestOut(**_fields(task))


def _snapshot_out(snapshot: PromptBacktestSnapshot) -> SnapshotOut:
    return SnapshotOut.model_validate(snapshot)


def _finished_trades(task: service.Task) -> list[dict[str, Any]]:
    """The stored trade list once completed (the caller loaded it), else none."""
    return (task.backtest.trades or []) if task.job.status == JobStatus.COMPLETED else []


def _finished_curve(task: service.Task) -> list[dict[str, Any]]:
    return (task.backtest.equity_curve or []) if task.job.status == JobStatus.COMPLETED else []


async def _detail(db: DbSession, task: service.Task, parts: Collection[Part]) -> Response:
    """The backtest with the ``parts`` asked for (the caller loaded their columns); the
    others are left out of the answer."""
    done = task.job.status == JobStatus.COMPLETED
    snapshots = (
        await service.snapshots_of(
            db, backtest_id=task.job.id, window=ListWindow(limit=INLINE_SNAPSHOTS)
        )
        if Part.DECISIONS in parts
        else ()
    )
    out = PromptBacktestDetailOut(
        **_fields(task),
        equity_curve=equity_out(_finished_curve(task)) if done and Part.EQUITY in parts else None,
        trades=trades_out(_finished_trades(task)) if done and Part.TRADES in parts else None,
        decisions=[_snapshot_out(s) for s in snapshots],
    )
    return answer(out, omitted=[field for part, field in PARTS.items() if part not in parts])


async def create(
    body: PromptBacktestCreate,
    request: Request,
    response: Response,
    user: CurrentUser,
    market: Market,
    db: DbSession,
    settings: AppSettings,
    runner: Runner,
) -> PromptBacktestOut:
    """Queue a backtest of a prompt on one of your traders: one model call per snapshot
    (at most 500), answers cached for reruns. Poll ``status_url``."""
    await spend(request, Budget("jobs", settings.rate_limit_jobs_per_minute, MINUTE), str(user.id))
    task = await service.create_prompt_backtest(
        db, market, user=user, data=body, max_attempts=settings.jobs_max_attempts
    )
    runner.wake()
    response.headers["Location"] = _status_url(task.job.id)
    return _out(task)


async def list_backtests(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[PromptBacktestOut]:
    """Your prompt backtests, newest first (without curve, trades and snapshots)."""
    return [_out(t) for t in await service.list_prompt_backtests(db, user=user, window=window)]


async def get_backtest(
    backtest_id: ResourceId, user: CurrentUser, db: DbSession, include: Included
) -> Response:
    """Status, progress and cost; when completed, the metrics and fingerprint. The long
    parts only when ``include`` names them (``trades``, ``equity``, ``decisions``: the
    first 100 snapshots); they also have their own paged routes."""
    task = await service.get_prompt_backtest(db, user=user, backtest_id=backtest_id, parts=include)
    return await _detail(db, task, include)


async def list_trades(
    backtest_id: ResourceId,
    user: CurrentUser,
    db: DbSession,
    window: ListWindowQuery,
    response: Response,
) -> list[TradeOut]:
    """The round trips in order (empty until completed), paged with ``limit``/``offset``
    or ``page``/``per_page``; ``X-Total-Count`` is the length of the whole list."""
    task = await service.get_prompt_backtest(
        db, user=user, backtest_id=backtest_id, parts={Part.TRADES}
    )
    trades = _finished_trades(task)
    return trades_out(page_of(trades, window, response))


async def list_equity(
    backtest_id: ResourceId,
    user: CurrentUser,
    db: DbSession,
    window: ListWindowQuery,
    response: Response,
) -> list[EquityPoint]:
    """The equity curve ``[{timestamp, equity}]`` in time order (empty until completed),
    paged like the trades."""
    task = await service.get_prompt_backtest(
        db, user=user, backtest_id=backtest_id, parts={Part.EQUITY}
    )
    curve = _finished_curve(task)
    return equity_out(page_of(curve, window, response))


async def list_snapshots(
    backtest_id: ResourceId, user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[SnapshotDetailOut]:
    """Every snapshot in order, with the rendered prompt the model was sent."""
    snapshots = await service.list_snapshots(db, user=user, backtest_id=backtest_id, window=window)
    return [SnapshotDetailOut.model_validate(s) for s in snapshots]


async def cancel_or_delete(
    backtest_id: ResourceId, runner: Runner, user: CurrentUser, db: DbSession
) -> Response | PromptBacktestOut:
    """A queued or running backtest is cancelled (200 with it, status ``cancelled``);
    a finished one is deleted with its snapshots (204)."""
    task = await service.cancel_or_delete(db, user=user, backtest_id=backtest_id)
    if task is None:
        return Response(status_code=204)
    # Stop it at once when this process runs it; elsewhere it stops at its next snapshot.
    runner.cancel(backtest_id)
    return _out(task)


for _router in (router, tasks_router):
    _router.add_api_route(
        "", create, methods=["POST"], status_code=202, response_model=PromptBacktestOut
    )
    _router.add_api_route(
        "", list_backtests, methods=["GET"], response_model=list[PromptBacktestOut]
    )
    _router.add_api_route(
        "/{backtest_id}", get_backtest, methods=["GET"], response_model=PromptBacktestDetailOut
    )
    _router.add_api_route(
        "/{backtest_id}/trades", list_trades, methods=["GET"], response_model=list[TradeOut]
    )
    _router.add_api_route(
        "/{backtest_id}/equity", list_equity, methods=["GET"], response_model=list[EquityPoint]
    )
    _router.add_api_route(
        "/{backtest_id}/snapshots",
        list_snapshots,
        methods=["GET"],
        response_model=list[SnapshotDetailOut],
    )
    _router.add_api_route(
        "/{backtest_id}",
        cancel_or_delete,
        methods=["DELETE"],
        response_model=PromptBacktestOut,
        responses={204: {"description": "A finished backtest was deleted"}},
    )
