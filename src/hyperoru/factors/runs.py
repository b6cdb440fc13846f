"""The effectiveness run: a job (kind ``factor_effectiveness``) that measures factors over
the configured universe and stores one row per factor. It runs on demand (a user's
built-ins and own factors) and on a schedule (built-ins and everyone's factors).

The numbers are computed off the event loop, a few factors per trip, with the job's
progress (and lease) renewed between trips.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.auth.models import User
from hyperoru.factors import effectiveness
from hyperoru.factors.bars import Bars
from hyperoru.factors.candles import load_bars
from hyperoru.factors.catalogue import builtin_trees
from hyperoru.factors.evaluate import Evaluator
from hyperoru.factors.language import Node
from hyperoru.factors.models import BUILTIN_SCOPE, FactorEffectiveness, user_scope
from hyperoru.factors.service import custom_trees
from hyperoru.jobs import service as jobs
from hyperoru.jobs.models import ACTIVE, Job
from hyperoru.jobs.runner import JobContext, JobFailed, JobHandler
from hyperoru.market.providers.base import MarketDataProvider, ProviderError
from hyperoru.offload import off_loop
from hyperoru.settings import Settings
from hyperoru.stopping import cancel_and_wait
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.factors")

KIND = "factor_effectiveness"
_PER_TRIP = 8
BARS_PER_DAY = {"1h": 24, "4h": 6, "1d": 1}
# Bars per time-series period: a day of hourly or 4-hourly bars, a week of daily ones.
PERIOD_BARS = {"1h": 24, "4h": 6, "1d": 7}


def measure_settings(settings: Settings) -> effectiveness.Settings:
    return effectiveness.Settings(
        horizon=settings.factor_horizon_bars, period=PERIOD_BARS[settings.factor_interval]
    )


def measure(
    trees: Mapping[tuple[str, str], Node], bars: Bars, settings: effectiveness.Settings
) -> dict[tuple[str, str], dict[str, object]]:
    """(scope, name) → the effectiveness report, all evaluated on one shared memo."""
    run = Evaluator(bars)
    seconds = effectiveness.bar_seconds(bars.times)
    return {
        key: effectiveness.report(run(tree), bars.close, seconds, bars.symbols, settings)
        for key, tree in trees.items()
    }


async def _store(
    sessionmaker: async_sessionmaker[AsyncSession],
    reports: Mapping[tuple[str, str], dict[str, object]],
    owners: Mapping[str, int | None],
    basis: dict[str, Any],
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        for (scope, name), result in reports.items():
            await session.execute(
                delete(FactorEffectiveness).where(
                    FactorEffectiveness.scope == scope, FactorEffectiveness.factor_name == name
                )
            )
            session.add(
                FactorEffectiveness(
                    scope=scope,
                    user_id=owners[scope],
                    factor_name=name,
                    basis=basis,
                    result=result,
                    computed_at=now,
                )
            )
        await session.commit()


def effectiveness_handler(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    settings: Settings,
) -> JobHandler:
    async def handle(context: JobContext) -> Mapping[str, Any]:
        user_id = context.params.get("user_id")
        everyone = bool(context.params.get("everyone"))
        trees: dict[tuple[str, str], Node] = {
            (BUILTIN_SCOPE, name): tree for name, tree in builtin_trees().items()
        }
        owners: dict[str, int | None] = {BUILTIN_SCOPE: None}
        async with sessionmaker() as session:
            customs = await custom_trees(session, user_id=None if everyone else user_id)
        for row, tree in customs:
            trees[(user_scope(row.user_id), row.name)] = tree
            owners[user_scope(row.user_id)] = row.user_id
        interval = settings.factor_interval
        count = settings.factor_lookback_days * BARS_PER_DAY[interval]
        try:
            bars = await load_bars(
                sessionmaker,
                provider,
                symbols=settings.factor_symbol_list,
                interval=interval,
                bars=count,
            )
        except ProviderError as exc:
            raise JobFailed(f"market data unavailable: {exc}") from exc
        if not bars.times:
            raise JobFailed("no candles for the factor universe")
        measured = measure_settings(settings)
        keys = list(trees)
        reports: dict[tuple[str, str], dict[str, object]] = {}
        # One evaluator per trip would lose the shared subtrees; trips of a few factors
        # keep each off-loop call short and the lease renewed.
        for start in range(0, len(keys), _PER_TRIP):
            chunk = {key: trees[key] for key in keys[start : start + _PER_TRIP]}
            reports.update(await off_loop(measure, chunk, bars, measured))
            await context.progress(100.0 * min(len(keys), start + _PER_TRIP) / len(keys))
        basis = {
            "interval": interval,
            "horizon_bars": measured.horizon,
            "period_bars": measured.period,
            "symbols": list(bars.symbols),
            "first_bar": bars.times[0].isoformat(),
            "last_bar": bars.times[-1].isoformat(),
            "bars": len(bars.times),
        }
        await _store(sessionmaker, reports, owners, basis)
        return {"factors": len(reports), **basis}

    return handle


async def enqueue(
    session: AsyncSession, *, owner_id: int, user_id: int | None, everyone: bool
) -> Job:
    """The owner's active run if there is one, else a new one (a second click does not
    queue a second run)."""
    active = await session.scalar(
        select(Job)
        .where(Job.kind == KIND, Job.owner_id == owner_id, Job.status.in_(ACTIVE))
        .order_by(Job.id)
        .limit(1)
    )
    if active is not None:
        return active
    job = await jobs.create_job(
        session,
        kind=KIND,
        owner_id=owner_id,
        params={"user_id": user_id, "everyone": everyone},
        max_attempts=3,
    )
    await session.commit()
    return job


async def _due(session: AsyncSession, every: timedelta, now: datetime) -> int | None:
    """The owner to record a scheduled run under, or None when no run is due: one is
    active or finished recently, or there are no users. Jobs need an owner; the
    scheduled run is recorded under the first administrator (else the first user)."""
    recent = await session.scalars(
        select(Job.params)
        .where(Job.kind == KIND)
        .where((Job.status.in_(ACTIVE)) | (Job.created_at > now - every))
    )
    if any(params.get("everyone") for params in recent):
        return None
    owner = await session.scalar(select(User.id).order_by(User.is_admin.desc(), User.id).limit(1))
    return owner


async def schedule_once(
    sessionmaker: async_sessionmaker[AsyncSession], every: timedelta, now: datetime
) -> Job | None:
    async with sessionmaker() as session:
        owner = await _due(session, every, now)
        if owner is None:
            return None
        return await enqueue(session, owner_id=owner, user_id=None, everyone=True)


@asynccontextmanager
async def scheduler(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, wake: Any
) -> AsyncIterator[None]:
    """Queues the scheduled run every ``factor_refresh_minutes`` (several processes may
    each queue one at the same moment; the second run only refreshes the same rows)."""
    if settings.factor_refresh_minutes <= 0:
        yield
        return
    every = timedelta(minutes=settings.factor_refresh_minutes)

    async def loop() -> None:
        while True:
            try:
                if await schedule_once(sessionmaker, every, utcnow()) is not None:
                    wake()
            except Exception:
                log.exception("scheduling the factor effectiveness run failed")
            await asyncio.sleep(min(every.total_seconds(), 60.0))

    task = asyncio.create_task(loop(), name="factor-effectiveness-schedule")
    try:
        yield
    finally:
        await cancel_and_wait(task)
