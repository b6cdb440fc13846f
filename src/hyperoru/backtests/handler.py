"""The job that runs one backtest: candles in, one sandboxed replay, results stored.

A job interrupted by a crash starts again from the beginning: the inputs were frozen at
submit time and the replay is deterministic, so the rerun gives the same result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.backtests.bars_loader import load_bars
from hyperoru.backtests.models import Backtest
from hyperoru.jobs.runner import JobContext, JobFailed, JobHandler, JobRunner
from hyperoru.market.history import load_candles
from hyperoru.market.intervals import step
from hyperoru.market.providers.base import MarketDataProvider, UnknownSymbol
from hyperoru.market.runtime import MarketRuntime
from hyperoru.programs.sandbox.fair_use import SandboxRefused
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.replay.bars import Bars
from hyperoru.replay.prices import utc
from hyperoru.replay.settings import ReplaySettings
from hyperoru.signals.history import PoolSnapshot, merged_needs, replay_firings

BACKTEST_KIND = "program_backtest"
# Share of the progress bar spent loading candles; the replay fills the rest.
LOADING_SHARE = 10.0
MAX_LOG_LINES = 200


class _Progress:
    """Forwards progress to the job at most once per whole percent: each report is a
    database write, and each one also tells the handler whether it was cancelled."""

    def __init__(self, context: JobContext) -> None:
        self._context = context
        self._reported = -1

    async def report(self, pct: float) -> None:
        whole = int(pct)
        if whole > self._reported:
            self._reported = whole
            await self._context.progress(float(whole))

    async def replay(self, fraction: float) -> None:
        share = 100.0 - LOADING_SHARE
        await self.report(LOADING_SHARE + share * max(0.0, min(1.0, fraction)))


@dataclass(frozen=True, slots=True)
class _Inputs:
    owner_id: int
    code: str
    params: dict[str, Any]
    dataset: str
    settings: ReplaySettings
    start: datetime
    end: datetime
    pools: tuple[PoolSnapshot, ...]
    # Symbol → imported dataset, for the symbols read from a user's own candles.
    sources: dict[str, str]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _inputs(sessionmaker: async_sessionmaker[AsyncSession], backtest_id: int) -> _Inputs:
    async with sessionmaker() as session:
        backtest = await session.get(Backtest, backtest_id)
        if backtest is None:
            raise JobFailed("the backtest's inputs are gone")
        return _Inputs(
            owner_id=backtest.owner_id,
            code=backtest.code,
            params=dict(backtest.params),
            dataset=backtest.dataset,
            settings=ReplaySettings.from_plain(backtest.replay_settings),
            start=_moment(backtest.config["start_date"]),
            end=_moment(backtest.config["end_date"]),
            pools=tuple(
                PoolSnapshot.from_plain(p) for p in backtest.config.get("signal_pools") or ()
            ),
            sources=dict(backtest.config.get("imported_symbols") or {}),
        )


async def _bars(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    inputs: _Inputs,
    progress: _Progress,
) -> dict[str, Bars]:
    symbols, interval = inputs.settings.symbols, inputs.settings.interval
    bars: dict[str, Bars] = {}
    for done, symbol in enumerate(symbols, start=1):
        try:
            loaded = await load_bars(
                sessionmaker,
                provider,
                symbols=[symbol],
                interval=interval,
                start=inputs.start,
                end=inputs.end,
                sources=inputs.sources,
            )
        except UnknownSymbol as exc:
            raise JobFailed(f"unknown symbol {symbol}") from exc
        if not loaded[symbol].times:
            raise JobFailed(f"no {interval} candles for {symbol} in the range")
        bars[symbol] = loaded[symbol]
        await progress.report(LOADING_SHARE * done / len(symbols))
    return bars


async def _signal_triggers(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: MarketDataProvider,
    inputs: _Inputs,
    bars: Mapping[str, Bars],
) -> dict[int, dict[str, Any]]:
    """Bar open time → the trigger of a replayed pool firing at that bar's close."""
    if not inputs.pools:
        return {}
    candles = {}
    for (symbol, interval), count in merged_needs(inputs.pools).items():
        try:
            candles[(symbol, interval)] = await load_candles(
                sessionmaker,
                provider,
                symbol=symbol,
                interval=interval,
                # Enough closed candles before the start for every signal's warm-up.
                start=inputs.start - step(interval) * count,
                end=inputs.end,
            )
        except UnknownSymbol as exc:
            raise JobFailed(f"unknown symbol {symbol} in a signal pool") from exc
    opens = bars[inputs.settings.symbols[0]].times
    width = step(inputs.settings.interval)
    closes = [utc(t) + width for t in opens]
    firings = await asyncio.to_thread(replay_firings, inputs.pools, candles, closes)
    return {opens[index]: trigger for index, trigger in firings.items()}


def backtest_handler(
    sessionmaker: async_sessionmaker[AsyncSession], market: MarketRuntime, sandbox: Sandbox
) -> JobHandler:
    async def run(context: JobContext) -> Mapping[str, Any]:
        inputs = await _inputs(sessionmaker, context.job_id)
        provider = market.provider
        if inputs.dataset != provider.dataset:
            raise JobFailed(
                f"queued for data {inputs.dataset}; this server reads {provider.dataset}"
            )
        progress = _Progress(context)
        bars = await _bars(sessionmaker, provider, inputs, progress)
        triggers = await _signal_triggers(sessionmaker, provider, inputs, bars)
        settings = replace(inputs.settings, signal_triggers=triggers)
        try:
            outcome = await sandbox.run_backtest(
                inputs.code,
                params=inputs.params,
                settings=settings,
                bars=bars,
                on_progress=progress.replay,
                user_id=inputs.owner_id,
                tag=context.sandbox_tag(),
            )
        except SandboxRefused as exc:  # the owner's budget ran out while it was queued
            raise JobFailed(exc.message) from None
        if outcome.status != "ok":
            raise JobFailed(outcome.error or f"the backtest ended with status {outcome.status}")
        result = outcome.result
        async with sessionmaker() as session:
            await session.execute(
                update(Backtest)
                .where(Backtest.id == context.job_id)
                .values(equity_curve=result["equity_curve"], trades=result["trades"])
            )
            await session.commit()
        return {
            "metrics": result["metrics"],
            "fingerprint": result["fingerprint"],
            "bars": len(bars[inputs.settings.symbols[0]].times),
            "logs": list(outcome.logs[-MAX_LOG_LINES:]),
        }

    return run


async def reap_sandbox_orphans(sandbox: Sandbox, runner: JobRunner) -> int:
    """Kill the sandbox processes stopped servers left on this host and hand their
    backtests back to the queue; answers how many jobs went back."""
    tags = await asyncio.to_thread(sandbox.reap_orphans)
    return await runner.hand_back(tags)
