"""The prompt backtest job: one model call per snapshot, fed to the replay.

For each decision bar but the last (whose orders would have no next open to execute
at), the trader's template is rendered by the live variable code over the past moment
(``history_view``), the answer is taken from the cache or asked of the trader's model,
parsed strictly, and the decisions are submitted to the replay. Each snapshot is stored
with its counters in one transaction, then progress is reported (which also notices a
cancellation made in another process).

Failures at a snapshot (no answer, or one that is not a valid decision) are recorded on
the snapshot and nothing is traded there; after ``MAX_CONSECUTIVE_FAILURES`` in a row
the task fails, as a live trader pauses itself (contract §10).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account
from hyperoru.backtests.bars_loader import load_bars
from hyperoru.exchanges.base import PositionReport
from hyperoru.jobs.runner import JobContext, JobFailed, JobHandler
from hyperoru.market.intervals import step
from hyperoru.market.providers.base import MarketDataProvider, UnknownSymbol
from hyperoru.prompt_backtests.cache import (
    Answer,
    ModelIdentity,
    cached_answer,
    prompt_digest,
    store_answer,
)
from hyperoru.prompt_backtests.history_view import HistoryCandles, HistorySource
from hyperoru.prompt_backtests.ledger_view import ledger_at
from hyperoru.prompt_backtests.models import PromptBacktest, PromptBacktestSnapshot
from hyperoru.replay.driver import Replay
from hyperoru.replay.prices import exact, utc
from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decide import Decided, decide, read_answer
from hyperoru.strategies.decision import Decision
from hyperoru.strategies.llm.base import LlmClient, LlmError, LlmRequest
from hyperoru.strategies.llm.factory import reads_minute_closes, uses_builtin_model
from hyperoru.strategies.llm.trader_model import llm_model_for
from hyperoru.strategies.template import render
from hyperoru.strategies.variables import DecisionInputs, TriggerInfo
from hyperoru.trading.engine import Fill

MAX_CONSECUTIVE_FAILURES = 3


@dataclass(slots=True)
class Counters:
    done: int = 0
    calls: int = 0
    cached_calls: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    in_a_row: int = 0

    def columns(self) -> dict[str, int]:
        return {
            "snapshots_done": self.done,
            "calls": self.calls,
            "cached_calls": self.cached_calls,
            "failed_snapshots": self.failed,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass(slots=True)
class Snapshot:
    """One snapshot as it will be stored."""

    bar_index: int
    time: datetime
    rendered: str
    digest: str
    cached: bool = False
    raw_output: str | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    fresh_answer: Answer | None = None  # to cache once stored
    parsed: list[Decision] = field(default_factory=list)
    positions: list[PositionReport] = field(default_factory=list)

    def row(self, backtest_id: int) -> PromptBacktestSnapshot:
        return PromptBacktestSnapshot(
            backtest_id=backtest_id,
            bar_index=self.bar_index,
            time=self.time,
            status="failed" if self.error else "ok",
            cached=self.cached,
            prompt_digest=self.digest,
            rendered_prompt=self.rendered,
            raw_output=self.raw_output,
            decisions=self.decisions,
            outcomes=self.outcomes,
            error=self.error,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_ms=self.latency_ms,
        )


class BacktestRun:
    def __init__(
        self,
        app: FastAPI,
        context: JobContext,
        model: LlmClient,
        account: Account,
        backtest: PromptBacktest,
    ) -> None:
        self._services = app.state.services  # hyperoru.services.Services
        self._sessions: async_sessionmaker[AsyncSession] = self._services.sessionmaker
        self._context = context
        self._model = model
        self._account = account
        self._backtest_id = backtest.id
        self._template = backtest.template
        self._config = backtest.config
        self._settings = ReplaySettings.from_plain(backtest.replay_settings)
        self._builtin = uses_builtin_model(account)
        self._minute_closes = reads_minute_closes(account)
        self._identity = ModelIdentity(
            user_id=account.user_id,
            provider=account.llm_provider,
            model=account.llm_model,
            base_url=account.llm_base_url,
        )
        self._counters = Counters()
        self._last_stored: tuple[int, list[dict[str, Any]]] | None = None

    async def run(self) -> Mapping[str, Any]:
        settings = self._settings
        provider: MarketDataProvider = self._services.market.provider
        start = datetime.fromisoformat(self._config["start_date"])
        end = datetime.fromisoformat(self._config["end_date"])
        try:
            bars = await load_bars(
                self._sessions,
                provider,
                symbols=settings.symbols,
                interval=settings.interval,
                start=start,
                end=end,
            )
        except UnknownSymbol as exc:
            raise JobFailed(str(exc)) from exc
        empty = [s for s, b in bars.items() if not len(b)]
        if empty:
            raise JobFailed(f"no candles for {', '.join(empty)} in the range")
        replay = Replay(settings, bars)
        width = step(settings.interval)
        last = replay.bar_count - 1
        decision_bars = [i for i in range(last) if replay.decides_at(i)]
        await self._start(len(decision_bars))
        candles = HistoryCandles(
            self._sessions,
            provider,
            last_moment=utc(replay.times[last]) + width,
            snapshot_step=width * settings.decide_every,
        )
        wanted = set(decision_bars)
        for i in range(replay.bar_count):
            replay.advance(i)
            if i not in wanted:
                continue
            # The decision is taken at the bar's close, with what was known then.
            moment = utc(replay.times[i]) + width
            view = replay.view(i)
            fills = replay.recent_fills(replay.fill_count)
            snapshot = await self._decide(i, moment, view, candles, fills)
            if snapshot.error is None:
                snapshot.outcomes = replay.submit(i, snapshot.parsed)
            await self._store(snapshot, len(decision_bars))
        result = replay.finish()
        await self._finish(result.equity_curve, result.trades)
        return {
            "metrics": result.metrics,
            "fingerprint": result.fingerprint,
            "rejections": result.rejections,
        }

    async def _decide(
        self,
        i: int,
        moment: datetime,
        view: Mapping[str, Any],
        candles: HistoryCandles,
        fills: Sequence[Fill],
    ) -> Snapshot:
        ledger = ledger_at(view, moment, fills)
        prices = {s: exact(p) for s, p in view["prices"].items()}
        inputs = DecisionInputs(
            account=self._account,
            symbols=self._settings.symbols,
            trigger=TriggerInfo(kind="scheduled"),
            now=moment,
            source=HistorySource(candles, moment=moment, prices=prices, ledger=ledger),
            custom_factors=self._settings.factors or {},
        )
        rendered = (await render(self._template, inputs.catalogue())).rendered
        snapshot = Snapshot(
            bar_index=i,
            time=moment,
            rendered=rendered,
            digest=prompt_digest(self._identity, system=None, prompt=rendered),
            positions=ledger.positions,
        )
        decided = await self._answer(snapshot, inputs)
        snapshot.raw_output = decided.raw_output
        snapshot.error = decided.error
        snapshot.parsed = list(decided.decisions)
        snapshot.decisions = [d.as_dict() for d in decided.decisions]
        counters = self._counters
        counters.done += 1
        if snapshot.error is None:
            counters.in_a_row = 0
        else:
            counters.failed += 1
            counters.in_a_row += 1
        return snapshot

    async def _answer(self, snapshot: Snapshot, inputs: DecisionInputs) -> Decided:
        counters = self._counters
        if not self._builtin:
            async with self._sessions() as session:
                cached = await cached_answer(
                    session, owner_id=self._identity.user_id, digest=snapshot.digest
                )
            if cached is not None:
                counters.cached_calls += 1
                snapshot.cached = True
                return read_answer(
                    cached.text, model=self._model.model_name, reasoning=cached.reasoning
                )
        # Only the builtin model reads the structured context; others read the prompt.
        context = (
            await inputs.model_context(minute_closes=self._minute_closes) if self._builtin else None
        )
        counters.calls += 1
        decided = await decide(
            self._model, LlmRequest(prompt=snapshot.rendered, system=None, context=context)
        )
        snapshot.latency_ms = decided.latency_ms
        if decided.usage is None or decided.raw_output is None:
            return decided
        usage = decided.usage
        snapshot.prompt_tokens, snapshot.completion_tokens = (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
        counters.prompt_tokens += usage.prompt_tokens
        counters.completion_tokens += usage.completion_tokens
        if not self._builtin:
            snapshot.fresh_answer = Answer(
                decided.raw_output,
                decided.reasoning,
                usage.prompt_tokens,
                usage.completion_tokens,
            )
        return decided

    async def _start(self, sample_count: int) -> None:
        """A retried job starts over: its snapshots go, answers come from the cache."""
        async with self._sessions() as session:
            await session.execute(
                delete(PromptBacktestSnapshot).where(
                    PromptBacktestSnapshot.backtest_id == self._backtest_id
                )
            )
            await session.execute(
                update(PromptBacktest)
                .where(PromptBacktest.id == self._backtest_id)
                .values(
                    sample_count=sample_count,
                    llm_provider=self._identity.provider,
                    llm_model=self._model.model_name,
                    **self._counters.columns(),
                )
            )
            await session.commit()
        await self._context.progress(0.0)

    async def _store(self, snapshot: Snapshot, sample_count: int) -> None:
        async with self._sessions() as session:
            if snapshot.fresh_answer is not None:
                await store_answer(
                    session,
                    identity=self._identity,
                    digest=snapshot.digest,
                    answer=snapshot.fresh_answer,
                )
            # The previous snapshot's orders executed at this bar's open: keep how.
            await self._store_last_outcomes(session)
            row = snapshot.row(self._backtest_id)
            session.add(row)
            await session.execute(
                update(PromptBacktest)
                .where(PromptBacktest.id == self._backtest_id)
                .values(**self._counters.columns())
            )
            await session.commit()
            self._last_stored = (row.id, snapshot.outcomes)
        counters = self._counters
        await self._context.progress(round(100.0 * counters.done / max(1, sample_count), 2))
        if counters.in_a_row >= MAX_CONSECUTIVE_FAILURES:
            raise JobFailed(
                f"{counters.in_a_row} snapshots in a row failed; the last: {snapshot.error}"
            )

    async def _store_last_outcomes(self, session: AsyncSession) -> None:
        """The last stored snapshot's outcomes as they stand now (its orders execute at
        the next bar's open, after the row was written)."""
        if self._last_stored is not None:
            row_id, outcomes = self._last_stored
            await session.execute(
                update(PromptBacktestSnapshot)
                .where(PromptBacktestSnapshot.id == row_id)
                .values(outcomes=outcomes)
            )

    async def _finish(
        self, equity_curve: list[dict[str, Any]], trades: list[dict[str, Any]]
    ) -> None:
        async with self._sessions() as session:
            await self._store_last_outcomes(session)
            await session.execute(
                update(PromptBacktest)
                .where(PromptBacktest.id == self._backtest_id)
                .values(equity_curve=equity_curve, trades=trades)
            )
            await session.commit()


async def _model_for(
    app: FastAPI, http: httpx.AsyncClient, session: AsyncSession, account: Account
) -> LlmClient:
    """The trader's model as its live cycles get it (the key read now, kept nowhere)."""
    try:
        services = app.state.services  # hyperoru.services.Services
        return await llm_model_for(services.secret_box, services.settings, http, session, account)
    except LlmError as exc:
        raise JobFailed(f"the trader's model: {exc.message}") from exc


def prompt_backtest_handler(app: FastAPI, http: httpx.AsyncClient) -> JobHandler:
    async def run(context: JobContext) -> Mapping[str, Any]:
        services = app.state.services  # hyperoru.services.Services
        sessions: async_sessionmaker[AsyncSession] = services.sessionmaker
        dataset: str = services.market.provider.dataset
        async with sessions() as session:
            backtest = await session.get(PromptBacktest, context.job_id)
            if backtest is None:
                raise JobFailed("the backtest was deleted")
            if backtest.dataset != dataset:
                raise JobFailed(f"queued for {backtest.dataset}, this server reads {dataset}")
            account = await session.get(Account, backtest.account_id)
            if account is None or account.deleted_at is not None:
                raise JobFailed("the trader was deleted")
            if account.account_type == "program":
                raise JobFailed("the trader now runs a program, not a prompt")
            model = await _model_for(app, http, session, account)
            await session.commit()
        return await BacktestRun(app, context, model, account, backtest).run()

    return run
