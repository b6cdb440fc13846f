"""Prompt backtest use cases: submit, read, list, cancel or delete.

A backtest is a ``jobs`` row (status, progress, error, times, small result) plus a
``prompt_backtests`` row with the same id (inputs, cost counters, long results). The
run itself is ``runner.run_prompt_backtest``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.auth.principal import Principal
from hyperoru.backtests.parts import Part
from hyperoru.backtests.trader_settings import replay_settings
from hyperoru.errors import ApiError, forbidden, not_found, validation_error
from hyperoru.factors.custom import custom_expressions
from hyperoru.jobs import service as jobs
from hyperoru.jobs.models import Job
from hyperoru.market import service as market_service
from hyperoru.market.errors import provider_errors
from hyperoru.market.intervals import count_between, floor_time, is_interval
from hyperoru.market.runtime import MarketRuntime
from hyperoru.market.timeparse import parse_moment
from hyperoru.paging import ListWindow
from hyperoru.prompt_backtests.models import PromptBacktest, PromptBacktestSnapshot
from hyperoru.prompt_backtests.schemas import PromptBacktestConfig, PromptBacktestCreate
from hyperoru.prompts.service import load_readable_prompt, template_for_trader
from hyperoru.quotas import ensure_job_room
from hyperoru.strategies import primary
from hyperoru.strategies.llm.factory import uses_builtin_model
from hyperoru.timeutils import utcnow

PROMPT_BACKTEST_KIND = "prompt_backtest"
# Each snapshot is one paid model call: a task asks at most this many.
MAX_SNAPSHOTS = 500
# Queued plus running prompt backtests one user may have at a time.
MAX_ACTIVE_PER_USER = 2
MAX_SYMBOLS = 10


@dataclass(frozen=True, slots=True)
class Task:
    """A prompt backtest as the API reports it: its job and its own row."""

    job: Job
    backtest: PromptBacktest


def _moment(value: str | int | None, field: str) -> datetime | None:
    return parse_moment(None if value is None else str(value), field)


def _range(config: PromptBacktestConfig, interval: str) -> tuple[datetime, datetime]:
    start = _moment(
        config.start_date if config.start_date is not None else config.start, "start_date"
    )
    end = _moment(config.end_date if config.end_date is not None else config.end, "end_date")
    if start is None:
        raise validation_error("config.start_date is required", "config.start_date")
    # Only closed candles are replayed: the range ends with the last one.
    last_closed = floor_time(utcnow(), interval)
    end = min(end or last_closed, last_closed)
    if start >= end:
        raise validation_error(
            "start_date must be before end_date (and before the current candle)",
            "config.start_date",
        )
    return start, end


async def _symbols(
    session: AsyncSession, market: MarketRuntime, account: Account, sent: list[str] | None
) -> list[str]:
    symbols = list(dict.fromkeys(s.strip().upper() for s in sent or []))
    if not symbols:
        symbols = list((await primary.get_strategy(session, account=account)).symbols or [])
    if not symbols:
        raise validation_error(
            "config.symbols is required (the trader's strategy lists none)", "config.symbols"
        )
    if len(symbols) > MAX_SYMBOLS:
        raise validation_error(f"at most {MAX_SYMBOLS} symbols", "config.symbols")
    await market_service.known_assets(market, symbols)
    return symbols


def _check_model(account: Account) -> None:
    if account.account_type == "program":
        raise ApiError(
            422,
            "NOT_A_PROMPT_TRADER",
            "This trader runs a program: backtest it with POST /api/backtests",
        )
    if not uses_builtin_model(account) and not (account.llm_base_url and account.llm_model):
        raise ApiError(
            422,
            "MODEL_NOT_CONFIGURED",
            "The trader has no model configured (set llm_base_url and llm_model, "
            "or llm_provider 'builtin')",
        )


def _account_id(data: PromptBacktestCreate) -> int:
    if data.account_id and data.trader_id and data.account_id != data.trader_id:
        raise validation_error("account_id and trader_id disagree; send one of them", "account_id")
    account_id = data.account_id or data.trader_id
    if account_id is None:
        raise validation_error("account_id (or trader_id) is required", "account_id")
    return account_id


async def create_prompt_backtest(
    session: AsyncSession,
    market: MarketRuntime,
    *,
    user: Principal,
    data: PromptBacktestCreate,
    max_attempts: int,
) -> Task:
    """Queue a backtest (commits). 400 for bad input, 403/404 for another user's or a
    missing trader or prompt, 422 when it would be too large or too many run at once."""
    account = await accounts.load_owned_account(session, user=user, account_id=_account_id(data))
    if data.prompt_id is not None:
        prompt = await load_readable_prompt(session, user=user, prompt_id=data.prompt_id)
    else:
        strategy = await primary.get_strategy(session, account=account)
        prompt = await template_for_trader(session, account=account, prompt_id=strategy.prompt_id)
    config = data.config
    if not is_interval(config.interval):
        raise validation_error("interval must be one of 1m, 5m, 15m, 1h, 4h, 1d", "config.interval")
    _check_model(account)
    start, end = _range(config, config.interval)
    snapshots = count_between(start, end, config.interval)
    if snapshots > MAX_SNAPSHOTS:
        message = (
            f"range too large: {snapshots} snapshots; a prompt backtest asks the model at "
            f"most {MAX_SNAPSHOTS} times (one paid call per snapshot): shorten the range or "
            "use a longer interval"
        )
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            message,
            details={
                "fields": [{"field": "config.start_date", "message": message}],
                "snapshots": snapshots,
                "max_snapshots": MAX_SNAPSHOTS,
            },
        )
    symbols = await _symbols(session, market, account, config.symbols)
    with provider_errors():
        assets = await market.cache.assets()
    try:
        settings = replay_settings(
            symbols=symbols,
            interval=config.interval,
            account=account,
            assets=assets,
            provider_name=market.provider.name,
            initial_balance=config.initial_balance,
            slippage_pct=config.slippage_pct,
            maker_fee_pct=config.maker_fee_pct,
            taker_fee_pct=config.taker_fee_pct,
        )
    except ValueError as exc:
        raise validation_error(f"config: {exc}", "config") from exc
    resolved: dict[str, Any] = {
        "symbols": symbols,
        "interval": config.interval,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "initial_balance": str(config.initial_balance),
        "slippage_pct": str(settings.slippage_pct),
        "maker_fee_pct": str(settings.maker_fee_pct),
        "taker_fee_pct": str(settings.taker_fee_pct),
        "venue": settings.venue,
        "margin_mode": settings.margin_mode,
    }
    await ensure_job_room(
        session,
        owner_id=user.id,
        kind=PROMPT_BACKTEST_KIND,
        limit=MAX_ACTIVE_PER_USER,
        code="TOO_MANY_BACKTESTS",
        what="prompt backtests",
    )
    job = await jobs.create_job(
        session,
        kind=PROMPT_BACKTEST_KIND,
        owner_id=user.id,
        params={"prompt_backtest_id": None},
        max_attempts=max_attempts,
    )
    backtest = PromptBacktest(
        id=job.id,
        owner_id=user.id,
        account_id=account.id,
        prompt_id=prompt.id,
        prompt_name=prompt.name,
        template=prompt.content,
        config=resolved,
        # The owner's custom factors as they are now, for {factor_values} at each snapshot.
        replay_settings=replace(
            settings, factors=await custom_expressions(session, user.id)
        ).to_plain(),
        dataset=market.provider.dataset,
        llm_provider=account.llm_provider,
        llm_model=account.llm_model,
        sample_count=snapshots,
        snapshots_done=0,
        calls=0,
        cached_calls=0,
        failed_snapshots=0,
        prompt_tokens=0,
        completion_tokens=0,
        created_at=job.created_at,
    )
    job.params = {"prompt_backtest_id": job.id}
    session.add(backtest)
    await session.commit()
    return Task(job, backtest)


# The deferred column behind each long part (the decisions are the snapshot rows).
_COLUMNS = {Part.TRADES: PromptBacktest.trades, Part.EQUITY: PromptBacktest.equity_curve}


async def _owned(
    session: AsyncSession, *, user: Principal, backtest_id: int, parts: Collection[Part] = ()
) -> Task:
    """With the long columns of ``parts`` loaded. 403 for another user's backtest, 404
    PROMPT_BACKTEST_NOT_FOUND for a missing one."""
    load = [column for part, column in _COLUMNS.items() if part in parts]
    found = await jobs.job_with_details(
        session, PromptBacktest, job_id=backtest_id, kind=PROMPT_BACKTEST_KIND, load=load
    )
    if found is None:
        raise not_found("prompt_backtest")
    job, backtest = found
    if job.owner_id != user.id:
        raise forbidden("This prompt backtest belongs to another user")
    return Task(job, backtest)


async def get_prompt_backtest(
    session: AsyncSession, *, user: Principal, backtest_id: int, parts: Collection[Part] = ()
) -> Task:
    return await _owned(session, user=user, backtest_id=backtest_id, parts=parts)


async def list_prompt_backtests(
    session: AsyncSession, *, user: Principal, window: ListWindow
) -> list[Task]:
    rows = await jobs.list_with_details(
        session, PromptBacktest, owner_id=user.id, kind=PROMPT_BACKTEST_KIND, window=window
    )
    return [Task(job, backtest) for job, backtest in rows]


async def list_snapshots(
    session: AsyncSession, *, user: Principal, backtest_id: int, window: ListWindow
) -> Sequence[PromptBacktestSnapshot]:
    await _owned(session, user=user, backtest_id=backtest_id)
    return await snapshots_of(session, backtest_id=backtest_id, window=window)


async def snapshots_of(
    session: AsyncSession, *, backtest_id: int, window: ListWindow
) -> Sequence[PromptBacktestSnapshot]:
    query = (
        select(PromptBacktestSnapshot)
        .where(PromptBacktestSnapshot.backtest_id == backtest_id)
        .order_by(PromptBacktestSnapshot.bar_index)
        .limit(window.limit)
        .offset(window.offset)
    )
    return (await session.scalars(query)).all()


async def cancel_or_delete(
    session: AsyncSession, *, user: Principal, backtest_id: int
) -> Task | None:
    """Cancel a queued or running backtest (its record and snapshots stay, status
    ``cancelled``) and return it; delete a finished one and return None (commits)."""
    await _owned(session, user=user, backtest_id=backtest_id)
    if await jobs.cancel(session, job_id=backtest_id):
        await session.commit()
        return await _owned(session, user=user, backtest_id=backtest_id)
    # Children first: the cascades from the job row would do it too, but statements in
    # this order do not depend on them.
    for table, key in (
        (PromptBacktestSnapshot, PromptBacktestSnapshot.backtest_id),
        (PromptBacktest, PromptBacktest.id),
        (Job, Job.id),
    ):
        await session.execute(delete(table).where(key == backtest_id))
    await session.commit()
    return None
