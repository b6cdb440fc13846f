"""/api/factors: the catalogue, custom factors (contract: §4.11 of the API map, plus the
feature page's ``POST /api/factors``), effectiveness reads and runs, and evaluation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.errors import validation_error
from hyperoru.factors import runs, service
from hyperoru.factors.catalogue import BUILTINS
from hyperoru.factors.dependencies import require_engine
from hyperoru.factors.evaluate import as_json
from hyperoru.factors.expressions import compile_expression
from hyperoru.factors.language import lookback, to_text
from hyperoru.factors.models import CustomFactor
from hyperoru.factors.schemas import (
    CatalogueEntry,
    CustomFactorOut,
    DeletedOut,
    EffectivenessDetail,
    EffectivenessRow,
    EvaluateOut,
    EvaluateRequest,
    FactorCreate,
    FactorUpdate,
    HistoryRow,
    RunOut,
    RunResultOut,
    SeriesOut,
    WindowRow,
)
from hyperoru.factors.values import factor_values
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.jobs import service as jobs
from hyperoru.jobs.models import Job
from hyperoru.market.errors import provider_errors
from hyperoru.market.service import normalise_symbol

router = APIRouter(prefix="/api/factors", tags=["factors"], dependencies=[Depends(require_engine)])

KindQuery = Annotated[str, Query(description="time_series (default) or cross_sectional")]


def _custom_out(row: CustomFactor) -> CustomFactorOut:
    return CustomFactorOut.model_validate(row)


def _fields(body: FactorCreate | FactorUpdate) -> service.FactorFields:
    return service.FactorFields(
        name=body.name, expression=body.expression, description=body.description
    )


# --- catalogue and custom factors -------------------------------------------------------


@router.get("/", response_model=list[CatalogueEntry])
async def catalogue(user: CurrentUser, db: DbSession) -> list[CatalogueEntry]:
    """The 64 built-ins, then the caller's own factors."""
    entries = [
        CatalogueEntry(
            id=None,
            name=f.name,
            category=f.category,
            expression=f.expression,
            description=f.description,
            source="builtin",
            documented=f.documented,
        )
        for f in BUILTINS
    ]
    for row in await service.list_custom(db, user=user):
        entries.append(
            CatalogueEntry(
                id=row.id,
                name=row.name,
                category="custom",
                expression=row.expression,
                description=row.description,
                source="custom",
            )
        )
    return entries


@router.post("/", status_code=201, response_model=CustomFactorOut)
async def create_factor(body: FactorCreate, user: CurrentUser, db: DbSession) -> CustomFactorOut:
    return _custom_out(await service.create_custom(db, user=user, data=_fields(body)))


@router.get("/custom", response_model=list[CustomFactorOut])
async def list_custom(user: CurrentUser, db: DbSession) -> list[CustomFactorOut]:
    return [_custom_out(row) for row in await service.list_custom(db, user=user)]


@router.post("/custom", status_code=201, response_model=CustomFactorOut)
async def create_custom(body: FactorCreate, user: CurrentUser, db: DbSession) -> CustomFactorOut:
    return _custom_out(await service.create_custom(db, user=user, data=_fields(body)))


@router.get("/custom/{factor_id}", response_model=CustomFactorOut)
async def get_custom(factor_id: ResourceId, user: CurrentUser, db: DbSession) -> CustomFactorOut:
    return _custom_out(await service.load_owned(db, user=user, factor_id=factor_id))


@router.put("/custom/{factor_id}", response_model=CustomFactorOut)
async def update_custom(
    factor_id: ResourceId, body: FactorUpdate, user: CurrentUser, db: DbSession
) -> CustomFactorOut:
    row = await service.load_owned(db, user=user, factor_id=factor_id)
    return _custom_out(await service.update_custom(db, factor=row, data=_fields(body)))


@router.delete("/custom/{factor_id}", response_model=DeletedOut)
async def delete_custom(factor_id: ResourceId, user: CurrentUser, db: DbSession) -> DeletedOut:
    row = await service.load_owned(db, user=user, factor_id=factor_id)
    await service.delete_custom(db, factor=row)
    return DeletedOut()


# --- evaluation ---------------------------------------------------------------------------


@router.post("/evaluate", response_model=EvaluateOut)
async def evaluate(body: EvaluateRequest, request: Request, user: CurrentUser) -> EvaluateOut:
    """An expression's last ``bars`` values on the configured interval; nothing stored."""
    tree = compile_expression(body.expression)
    services = request.app.state.services
    settings = services.settings
    wanted = body.symbols or (
        [body.symbol] if body.symbol else list(settings.factor_symbol_list[:1])
    )
    symbols = list(dict.fromkeys(normalise_symbol(s) for s in wanted))
    known = set(settings.market_symbol_list) | set(settings.factor_symbol_list)
    unknown = [s for s in symbols if s not in known]
    if unknown:
        raise validation_error(f"unknown symbol {unknown[0]}", "symbol")
    with provider_errors():
        result = await factor_values(
            services.sessionmaker,
            services.market.provider,
            trees={"value": tree},
            symbols=symbols,
            interval=settings.factor_interval,
            shown=body.bars,
        )
    times = list(result.bars.times[-body.bars :])
    series = []
    for row, symbol in enumerate(result.bars.symbols):
        values = as_json(result.values["value"][row, -body.bars :])
        series.append(
            SeriesOut(
                symbol=symbol, latest=values[-1] if values else None, times=times, values=values
            )
        )
    return EvaluateOut(
        expression=body.expression,
        canonical=to_text(tree),
        interval=settings.factor_interval,
        lookback_bars=lookback(tree),
        series=series,
    )


# --- effectiveness --------------------------------------------------------------------------


@router.get("/effectiveness", response_model=list[EffectivenessRow])
async def effectiveness(
    user: CurrentUser, db: DbSession, window: ListWindowQuery, kind: KindQuery = "time_series"
) -> list[EffectivenessRow]:
    service.check_kind(kind)
    rows = await service.effectiveness_rows(db, user=user)
    page = rows[window.offset : window.offset + window.limit]
    return [EffectivenessRow.model_validate(service.summary_row(row, kind)) for row in page]


@router.post("/effectiveness/compute", status_code=202, response_model=RunOut)
async def compute(request: Request, response: Response, user: CurrentUser, db: DbSession) -> RunOut:
    """Measure the built-ins and the caller's own factors now (one run at a time)."""
    job = await runs.enqueue(db, owner_id=user.id, user_id=user.id, everyone=False)
    request.app.state.services.jobs.wake()
    out = _run_out(job)
    response.headers["Location"] = out.status_url
    return out


@router.get("/effectiveness/runs/{run_id}", response_model=RunOut)
async def run_status(run_id: ResourceId, user: CurrentUser, db: DbSession) -> RunOut:
    job = await jobs.get_owned_job(db, job_id=run_id, owner_id=user.id, kind=runs.KIND)
    return _run_out(job)


def _run_out(job: Job) -> RunOut:
    return RunOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress_pct=job.progress_pct,
        status_url=f"/api/factors/effectiveness/runs/{job.id}",
        result=RunResultOut.model_validate(job.result) if job.result else None,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.get("/effectiveness/{factor_name}", response_model=EffectivenessDetail)
async def effectiveness_detail(
    factor_name: str, user: CurrentUser, db: DbSession, kind: KindQuery = "time_series"
) -> EffectivenessDetail:
    service.check_kind(kind)
    row = await service.effectiveness_of(db, user=user, factor_name=factor_name)
    other = "cross_sectional" if kind == "time_series" else "time_series"
    part = row.result[kind]
    return EffectivenessDetail.model_validate(
        {
            **service.summary_row(row, kind),
            "per_symbol": part.get("per_symbol"),
            "decay": part["decay"],
            "by_window": part["by_window"],
            "other": {"kind": other, **row.result[other]["summary"]},
        }
    )


@router.get("/effectiveness/{factor_name}/history", response_model=list[HistoryRow])
async def effectiveness_history(
    factor_name: str, user: CurrentUser, db: DbSession, kind: KindQuery = "time_series"
) -> list[HistoryRow]:
    service.check_kind(kind)
    row = await service.effectiveness_of(db, user=user, factor_name=factor_name)
    return [HistoryRow.model_validate({**day, "kind": kind}) for day in row.result[kind]["history"]]


@router.get("/effectiveness/{factor_name}/by-window", response_model=list[WindowRow])
async def effectiveness_by_window(
    factor_name: str, user: CurrentUser, db: DbSession, kind: KindQuery = "time_series"
) -> list[WindowRow]:
    service.check_kind(kind)
    row = await service.effectiveness_of(db, user=user, factor_name=factor_name)
    return [WindowRow.model_validate({**w, "kind": kind}) for w in row.result[kind]["by_window"]]
