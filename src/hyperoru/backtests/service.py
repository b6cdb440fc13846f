"""Use cases of the program backtest routes. Each public function owns its transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.api_types import MAX_ID
from hyperoru.auth.principal import Principal
from hyperoru.backtests.handler import BACKTEST_KIND, reap_sandbox_orphans
from hyperoru.backtests.models import Backtest
from hyperoru.backtests.parts import Part
from hyperoru.backtests.plan import plan_backtest
from hyperoru.backtests.schemas import BacktestCreate
from hyperoru.errors import forbidden, not_found
from hyperoru.factors.custom import backtest_factors, custom_expressions
from hyperoru.jobs import service as jobs
from hyperoru.jobs.models import Job
from hyperoru.jobs.runner import JobRunner
from hyperoru.market import service as market_service
from hyperoru.market.imported import imported_sources
from hyperoru.market.providers.base import AssetMeta
from hyperoru.market.runtime import MarketRuntime
from hyperoru.paging import ListWindow
from hyperoru.programs import service as programs
from hyperoru.programs.sandbox.fair_queue import Kind
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.quotas import ensure_job_room
from hyperoru.settings import Settings
from hyperoru.signals import service as signals
from hyperoru.signals.history import PoolSnapshot
from hyperoru.signals.models import SignalDefinition
from hyperoru.timeutils import utcnow

# The deferred column behind each long part (the logs are in the job's small result).
_COLUMNS = {Part.TRADES: Backtest.trades, Part.EQUITY: Backtest.equity_curve}


@dataclass(frozen=True, slots=True)
class BacktestRecord:
    job: Job
    backtest: Backtest


async def _check_symbols(market: MarketRuntime, symbols: Sequence[str]) -> Mapping[str, AssetMeta]:
    return await market_service.known_assets(market, [s.upper() for s in symbols])


async def _frozen_pools(
    session: AsyncSession, *, user: Principal, pool_ids: Sequence[int]
) -> list[PoolSnapshot]:
    """The caller's pools with their definitions as they are now, so that a rerun replays
    the same signals even after the user edits them (404/403 for a pool not theirs)."""
    pools = [
        await signals.load_owned_pool(session, user=user, pool_id=pool_id)
        for pool_id in dict.fromkeys(pool_ids)
    ]
    wanted = {signal_id for pool in pools for signal_id in pool.signal_ids}
    definitions = {
        d.id: d
        for d in await session.scalars(
            select(SignalDefinition).where(SignalDefinition.id.in_(wanted))
        )
    }
    custom = await custom_expressions(session, user.id)
    return [PoolSnapshot.of(pool, definitions, custom) for pool in pools]


async def submit_backtest(
    session: AsyncSession,
    market: MarketRuntime,
    *,
    user: Principal,
    data: BacktestCreate,
    settings: Settings,
    sandbox: Sandbox | None = None,
) -> BacktestRecord:
    """Validate, freeze the inputs and queue the job. Raises 400 VALIDATION_ERROR, 404
    PROGRAM/ACCOUNT/POOL/SYMBOL_NOT_FOUND, 403 FORBIDDEN, 429 TOO_MANY_BACKTESTS or
    SANDBOX_BUDGET_SPENT (when ``sandbox`` is given). Commits."""
    config = data.config
    program = await programs.load_owned_program(session, user=user, program_id=data.program_id)
    if sandbox is not None:
        programs.ensure_sandbox_room(sandbox, user=user, kind=Kind.BACKTEST)
    account: Account | None = None
    account_id = config.account_id or data.account_id
    if account_id is not None:
        account = await accounts.load_owned_account(session, user=user, account_id=account_id)
    pools = await _frozen_pools(session, user=user, pool_ids=config.signal_pool_ids or ())
    # Symbols the user imported candles for need not be listed by the market.
    imported = await imported_sources(
        session,
        owner_id=user.id,
        symbols=[s.upper() for s in config.symbols],
        interval=config.interval,
    )
    assets = await _check_symbols(market, [s for s in config.symbols if s.upper() not in imported])
    plan = plan_backtest(
        config,
        now=utcnow(),
        assets=assets,
        account=account,
        provider_name=market.provider.name,
        max_candles=settings.backtest_max_candles,
    )
    await ensure_job_room(
        session,
        owner_id=user.id,
        kind=BACKTEST_KIND,
        limit=settings.backtest_max_active_per_user,
        code="TOO_MANY_BACKTESTS",
        what="backtests",
    )
    job = await jobs.create_job(
        session,
        kind=BACKTEST_KIND,
        owner_id=user.id,
        params={"program_id": program.id},
        max_attempts=settings.jobs_max_attempts,
    )
    params = dict(program.params if config.params is None else config.params)
    factors = await backtest_factors(
        session, user.id, engine_enabled=settings.factor_engine == "enabled"
    )
    backtest = Backtest(
        id=job.id,
        owner_id=user.id,
        program_id=program.id,
        account_id=account.id if account else None,
        program_name=program.name,
        code=program.code,
        code_sha256=hashlib.sha256(program.code.encode("utf-8", "surrogatepass")).hexdigest(),
        params=params,
        config={
            **plan.describe(),
            "signal_pools": [pool.to_plain() for pool in pools],
            "imported_symbols": imported,
        },
        replay_settings=replace(plan.settings, factors=factors).to_plain(),
        dataset=market.provider.dataset,
        created_at=job.created_at,
    )
    session.add(backtest)
    await session.commit()
    return BacktestRecord(job, backtest)


async def load_owned_backtest(
    session: AsyncSession, *, user: Principal, backtest_id: int, parts: Collection[Part] = ()
) -> BacktestRecord:
    """With the long columns of ``parts`` loaded (they are deferred: a poll reads none).
    Raises 404 BACKTEST_NOT_FOUND (missing) or 403 FORBIDDEN (another user's)."""
    if not 1 <= backtest_id <= MAX_ID:
        raise not_found("backtest")
    load = [column for part, column in _COLUMNS.items() if part in parts]
    found = await jobs.job_with_details(
        session, Backtest, job_id=backtest_id, kind=BACKTEST_KIND, load=load
    )
    if found is None:
        raise not_found("backtest")
    job, backtest = found
    if backtest.owner_id != user.id:
        raise forbidden("This backtest belongs to another user")
    return BacktestRecord(job, backtest)


async def list_backtests(
    session: AsyncSession, *, user: Principal, window: ListWindow
) -> list[BacktestRecord]:
    """The caller's backtests, newest first, without their curves and trade lists."""
    rows = await jobs.list_with_details(
        session, Backtest, owner_id=user.id, kind=BACKTEST_KIND, window=window
    )
    return [BacktestRecord(job, backtest) for job, backtest in rows]


async def cancel_or_delete(
    session: AsyncSession,
    runner: JobRunner,
    *,
    record: BacktestRecord,
    sandbox: Sandbox | None = None,
) -> BacktestRecord | None:
    """A queued or running backtest is cancelled and returned; a finished one is deleted
    (None). Commits.

    Its sandbox process is killed: here when this process runs it, by its worker at the
    next heartbeat when another live process does, and, when the process that ran it is
    dead, by reaping that process's orphans on this host now."""
    job_id = record.job.id
    if await jobs.cancel(session, job_id=job_id):
        await session.commit()
        if not runner.cancel(job_id) and sandbox is not None:
            await reap_sandbox_orphans(sandbox, runner)
        await session.refresh(record.job)
        return record
    await session.execute(delete(Backtest).where(Backtest.id == job_id))
    await session.execute(delete(Job).where(Job.id == job_id))
    await session.commit()
    return None
