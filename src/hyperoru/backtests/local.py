"""A program backtest run in the caller's process (``hyperoru backtest``), on the server's
path: the request planned by ``plan.plan_backtest``, the bars from ``bars_loader`` (the
candle store, imported candles, the market's provider), one sandbox process running the
replay. Only the job and its stored results are left out, so a local run and a server
job over the same candles give the same trades and fingerprint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.backtests.bars_loader import load_bars
from hyperoru.backtests.plan import BacktestPlan, plan_backtest
from hyperoru.backtests.schemas import BacktestConfig
from hyperoru.factors.custom import backtest_factors
from hyperoru.market import service as market_service
from hyperoru.market.errors import provider_errors
from hyperoru.market.imported import imported_sources
from hyperoru.market.providers.base import MarketDataProvider
from hyperoru.market.runtime import MarketRuntime
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.timeutils import utcnow

# Share of the progress spent loading candles, as in the server's job.
LOADING_SHARE = 0.1

Progress = Callable[[float], Awaitable[None]]


class LocalBacktestFailed(Exception):
    """The program failed, timed out, or the range has no candles."""

    def __init__(self, message: str, logs: list[str] | None = None) -> None:
        super().__init__(message)
        self.logs = logs or []


@dataclass(frozen=True, slots=True)
class LocalBacktest:
    plan: BacktestPlan
    sources: Mapping[str, str]
    bars: int
    result: dict[str, Any]
    logs: list[str]


async def run_local_backtest(
    sessionmaker: async_sessionmaker[AsyncSession],
    market: MarketRuntime,
    sandbox: Sandbox,
    *,
    code: str,
    config: BacktestConfig,
    params: Mapping[str, Any],
    owner_id: int | None,
    max_candles: int,
    on_progress: Progress,
    now: datetime | None = None,
    factor_engine: bool = False,
) -> LocalBacktest:
    """Raises ApiError for a request the server would refuse (same codes), and
    LocalBacktestFailed when the run itself fails. ``factor_engine``: whether
    ``data.get_factor`` answers (the built-ins and the owner's custom factors)."""
    now = now or utcnow()
    symbols = [s.upper() for s in config.symbols]
    async with sessionmaker() as session:
        sources = await imported_sources(
            session, owner_id=owner_id, symbols=symbols, interval=config.interval
        )
        factors = await backtest_factors(session, owner_id, engine_enabled=factor_engine)
    assets = await market_service.known_assets(market, [s for s in symbols if s not in sources])
    plan = plan_backtest(
        config,
        now=now,
        assets=assets,
        account=None,
        provider_name=market.provider.name,
        max_candles=max_candles,
    )
    plan = replace(plan, settings=replace(plan.settings, factors=factors))
    bars = await _bars(sessionmaker, market.provider, plan, sources, now, on_progress)
    outcome = await sandbox.run_backtest(
        code,
        params=params,
        settings=plan.settings,
        bars=bars,
        on_progress=lambda done: on_progress(LOADING_SHARE + (1 - LOADING_SHARE) * done),
    )
    if outcome.status != "ok":
        raise LocalBacktestFailed(
            outcome.error or f"the backtest ended with status {outcome.status}",
            list(outcome.logs),
        )
    await on_progress(1.0)
    return LocalBacktest(
        plan=plan,
        sources=sources,
        bars=len(bars[plan.symbols[0]].times),
        result=outcome.result,
        logs=list(outcome.logs),
    )


async def _bars(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    plan: BacktestPlan,
    sources: Mapping[str, str],
    now: datetime,
    on_progress: Progress,
) -> dict[str, Any]:
    loaded = {}
    for done, symbol in enumerate(plan.symbols, start=1):
        with provider_errors():
            bars = await load_bars(
                sessionmaker,
                provider,
                symbols=[symbol],
                interval=plan.interval,
                start=plan.start,
                end=plan.end,
                now=now,
                sources=sources,
            )
        if not bars[symbol].times:
            raise LocalBacktestFailed(f"no {plan.interval} candles for {symbol} in the range")
        loaded[symbol] = bars[symbol]
        await on_progress(LOADING_SHARE * done / len(plan.symbols))
    return loaded
