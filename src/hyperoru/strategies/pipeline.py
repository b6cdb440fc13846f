"""The one decision pipeline, for LLM and program traders alike:

trigger → the strategy it runs (the trader's primary strategy or one of its bindings) →
prepare the prompt → ask the model → parse strictly → check every decision
against the trader's limits → execute through the trader's ExchangeClient → record it
all → publish it on ``model_chat``.

A cycle never holds a database connection while it waits. It reads what it needs in one
short transaction (``plan.load_setup``: plain values, no ORM objects), prepares the prompt
and asks the model with nothing held (the preparer and the model factory open their own
short sessions for the template, the program and the API key), re-checks the trader
before placing orders, and writes its record in one short transaction at the end. So the
number of cycles in flight is bounded by ``max_concurrent_cycles``, never by the
database pool.

Collaborators come in through ``PipelineParts`` so the pipeline never knows whether it
talks to the paper engine or a venue, to OpenAI or the builtin model.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.errors import ApiError
from hyperoru.exchanges.base import ExchangeClient, ExecutionReport, OrderAttribution
from hyperoru.strategies import cycle_guard
from hyperoru.strategies.book_lock import DEFAULT_LOCK_CONNECTIONS, BookLocks
from hyperoru.strategies.decide import decide
from hyperoru.strategies.decision import Decision
from hyperoru.strategies.intents import order_for
from hyperoru.strategies.llm.base import LlmClient, LlmError, LlmRequest, ModelContext
from hyperoru.strategies.plan import (
    BindingUnavailable,
    CycleSetup,
    StrategyPlan,
    TraderFacts,
    TraderGone,
    TraderStopped,
    load_setup,
    trader_state,
)
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.risk import BookContext, TraderLimits, check
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow
from hyperoru.trading.models import TradingOrder

log = logging.getLogger("hyperoru.pipeline")

NOT_PLACED_PAUSED = "not placed: the trader was paused, deactivated or deleted during the cycle"


@dataclass(frozen=True, slots=True)
class PreparedPrompt:
    """A rendered prompt with the facts behind it."""

    text: str
    prompt_id: int | None
    context: ModelContext
    prices: dict[str, Decimal]
    size_decimals: dict[str, int]
    system: str | None = None
    # Recorded as the decision's context (analytics): the template variables used, and
    # each symbol's regime name where the input carried one.
    variables_used: tuple[str, ...] = ()
    regimes: dict[str, str | None] = field(default_factory=dict)


# Neither takes a session: each opens its own short one for what it reads, so nothing is
# held while the prompt's market data is fetched or the model is asked.
PromptPreparer = Callable[[TraderFacts, StrategyPlan, Trigger], Awaitable[PreparedPrompt]]
ModelFactory = Callable[[TraderFacts, StrategyPlan], Awaitable[LlmClient]]
Publisher = Callable[[DecisionRecord], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PipelineParts:
    sessions: async_sessionmaker[AsyncSession]
    exchange: ExchangeClient
    prepare_prompt: PromptPreparer
    model_for: ModelFactory
    publish: Publisher | None = None
    # Bounds the manual cycles of this process (the runtime's cycles take the same gate
    # in ``runtime.scheduler.run_counted``); None: unbounded (tests).
    gate: AbstractAsyncContextManager[Any] | None = None
    book_lock_connections: int = DEFAULT_LOCK_CONNECTIONS


@dataclass(slots=True)
class _Cycle:
    """What one cycle learned so far, written to the record at the end."""

    plan: StrategyPlan | None = None
    rendered: str | None = None
    prompt_id: int | None = None
    model: str | None = None
    raw_output: str | None = None
    reasoning: str | None = None
    decisions: list[Decision] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    latency_ms: int | None = None
    usage: dict[str, int] = field(default_factory=dict)
    # Recorded with every order the cycle places (analytics' exact breakdowns).
    attribution: OrderAttribution | None = None
    context: dict[str, Any] | None = None


def _limits(trader: TraderFacts, plan: StrategyPlan) -> TraderLimits:
    return TraderLimits(
        symbols=frozenset(plan.symbols),
        default_leverage=trader.default_leverage,
        max_leverage=trader.max_leverage,
        max_position_notional=trader.max_position_notional,
        max_open_positions=trader.max_open_positions,
    )


class DecisionPipeline:
    def __init__(self, parts: PipelineParts) -> None:
        self._parts = parts
        # One trader's cycles (a schedule, a binding's schedule and signals may overlap,
        # in this process or others) check and place their orders one at a time, so two
        # of them can never both pass the open-positions limit on the same book. Models
        # are still asked in parallel.
        self._books = BookLocks(parts.sessions, connections=parts.book_lock_connections)

    async def close(self) -> None:
        await self._books.close()

    async def run(self, account_id: int, trigger: Trigger) -> DecisionRecord:
        """Run one cycle for one trader now (a manual trigger) and return its recorded
        decision: the strategy of ``trigger.binding_id``, or the trader's primary strategy.
        Raises ``BindingUnavailable`` when that binding is off or gone and ``TraderGone``
        when the trader is (nothing recorded either way)."""
        if self._parts.gate is None:
            return await self._run(account_id, trigger)
        async with self._parts.gate:
            return await self._run(account_id, trigger)

    async def run_cycle(self, account_id: int, trigger: Trigger) -> CycleOutcome:
        """The runtime's view of a cycle (the runtime holds the concurrency gate): did
        the trader manage to decide? A cycle that found nothing to run is neither."""
        try:
            record = await self._run(account_id, trigger)
        except (BindingUnavailable, TraderGone, TraderStopped, cycle_guard.TraderTakenOver):
            return CycleOutcome(ok=True, ran=False)
        return CycleOutcome(ok=record.status == "ok", error=record.error)

    async def _run(self, account_id: int, trigger: Trigger) -> DecisionRecord:
        async with self._parts.sessions() as session:
            setup = await load_setup(
                session,
                account_id=account_id,
                binding_id=trigger.binding_id,
                automatic=trigger.kind != "manual",
            )
        cycle = _Cycle(plan=setup.plan)
        if setup.plan is None:
            cycle.error = "the trader has no strategy configured (PUT /strategy)"
        else:
            try:
                await self._decide(setup, setup.plan, trigger, cycle)
            except ApiError as exc:
                if exc.code == "ACCOUNT_NOT_FOUND":  # the exchange saw it deleted meanwhile
                    raise TraderGone(account_id) from None
                raise
        record = await self._store(setup.trader, trigger, cycle)
        if self._parts.publish is not None:
            try:
                await self._parts.publish(record)
            except Exception:  # the record is stored; a lost push must not fail the cycle
                log.exception("could not publish a decision", extra={"account_id": account_id})
        return record

    async def _decide(
        self, setup: CycleSetup, plan: StrategyPlan, trigger: Trigger, cycle: _Cycle
    ) -> None:
        trader = setup.trader
        try:
            prepared = await self._parts.prepare_prompt(trader, plan, trigger)
        except ApiError as exc:
            cycle.error = f"could not prepare the prompt: {exc.message}"
            return
        cycle.rendered, cycle.prompt_id = prepared.text, prepared.prompt_id
        cycle.context = {
            "variables": list(prepared.variables_used),
            "regimes": prepared.regimes,
            # Who answered: the metrics count model time and errors per provider.
            "provider": "program" if plan.is_program else (trader.llm_provider or "builtin"),
        }
        cycle.attribution = OrderAttribution(
            trigger_type="signal" if trigger.kind == "signal" else "ai_decision",
            strategy_type=plan.strategy_type,
            prompt_id=prepared.prompt_id,
            program_id=plan.program_id if plan.is_program else None,
            binding_id=trigger.binding_id,
        )
        try:
            model = await self._parts.model_for(trader, plan)
        except LlmError as exc:
            cycle.error = f"model call failed: {exc.message}"
            return
        request = LlmRequest(prompt=prepared.text, system=prepared.system, context=prepared.context)
        decided = await decide(model, request)
        cycle.model, cycle.raw_output, cycle.reasoning = (
            decided.model,
            decided.raw_output,
            decided.reasoning,
        )
        cycle.latency_ms = decided.latency_ms
        cycle.usage = decided.usage.as_dict() if decided.usage else {}
        cycle.decisions, cycle.error = list(decided.decisions), decided.error
        if not decided.ok:
            return
        if all(decision.operation == "hold" for decision in cycle.decisions):
            # Nothing to place: no lock to wait for, only the verdicts to record.
            await self._execute_all(trader, plan, prepared, cycle, place=False)
            return
        async with self._books.hold(trader.id):
            await self._execute_all(
                trader, plan, prepared, cycle, place=await self._may_still_place(trader)
            )

    async def _may_still_place(self, trader: TraderFacts) -> bool:
        """Orders go out only if the trader was not deleted, paused or deactivated while
        its model was thinking. (A trader that was already stopped when its owner ran it
        by hand stays runnable by hand.)"""
        async with self._parts.sessions() as session:
            await cycle_guard.ensure_still_ours(session)
            now = await trader_state(session, trader.id)
        return now is not None and (now.runnable or not trader.runnable)

    async def _store(self, trader: TraderFacts, trigger: Trigger, cycle: _Cycle) -> DecisionRecord:
        """Write the record in one short transaction, unless the trader was deleted while
        the cycle ran (then ``TraderGone``)."""
        record = self._record(trader, trigger, cycle)
        async with self._parts.sessions() as session:
            if await trader_state(session, trader.id) is None:
                raise TraderGone(trader.id)
            session.add(record)
            await session.flush()
            await _link_orders(session, record)
            await session.commit()
        return record

    async def _execute_all(
        self,
        trader: TraderFacts,
        plan: StrategyPlan,
        prepared: PreparedPrompt,
        cycle: _Cycle,
        *,
        place: bool,
    ) -> None:
        exchange = self._parts.exchange
        limits = _limits(trader, plan)
        for index, decision in enumerate(cycle.decisions):
            positions = {p.symbol: p for p in await exchange.positions(account_id=trader.id)}
            balance = await exchange.balance(account_id=trader.id)
            context = BookContext(
                available_balance=balance.available,
                open_position_symbols=tuple(positions),
                prices=prepared.prices,
            )
            verdict = check(decision, limits, context)
            outcome: dict[str, Any] = {
                "index": index,
                "operation": decision.operation,
                "symbol": decision.symbol,
                "approved": verdict.approved,
                "reason": verdict.reason,
                "order_ids": [],
                "execution_status": None,
            }
            cycle.outcomes.append(outcome)
            if not verdict.approved or decision.operation == "hold":
                continue
            if not place:
                outcome["execution_status"] = "skipped"
                outcome["reason"] = NOT_PLACED_PAUSED
                continue
            symbol = decision.symbol or ""
            intent = order_for(
                decision,
                verdict,
                price=prepared.prices[symbol],
                sz_decimals=prepared.size_decimals.get(symbol, 0),
                positions=positions,
                name=f"ai:{decision.operation}",
            )
            intent = dataclasses.replace(intent, attribution=cycle.attribution)
            try:
                report: ExecutionReport = await exchange.place(account_id=trader.id, intent=intent)
            except ApiError as exc:
                outcome["execution_status"] = "rejected"
                outcome["reject_code"] = exc.code
                outcome["reason"] = exc.message
                continue
            outcome["order_ids"] = [report.order_id]
            outcome["execution_status"] = report.execution_status
            if report.reject_code:
                outcome["reject_code"] = report.reject_code
                outcome["reason"] = report.message or report.reject_code

    @staticmethod
    def _record(trader: TraderFacts, trigger: Trigger, cycle: _Cycle) -> DecisionRecord:
        return DecisionRecord(
            account_id=trader.id,
            user_id=trader.user_id,
            status="failed" if cycle.error else "ok",
            trigger=trigger.as_dict(),
            strategy_type=cycle.plan.strategy_type if cycle.plan else trader.account_type,
            prompt_id=cycle.prompt_id,
            program_id=cycle.plan.program_id if cycle.plan and cycle.plan.is_program else None,
            binding_id=trigger.binding_id,
            model=cycle.model,
            rendered_prompt=cycle.rendered,
            raw_output=cycle.raw_output,
            reasoning=cycle.reasoning,
            decisions=[d.as_dict() for d in cycle.decisions],
            outcomes=cycle.outcomes,
            executed=any(
                o.get("execution_status") in ("filled", "partially_filled", "open")
                for o in cycle.outcomes
            ),
            error=cycle.error,
            latency_ms=cycle.latency_ms,
            prompt_tokens=cycle.usage.get("prompt_tokens"),
            completion_tokens=cycle.usage.get("completion_tokens"),
            context=cycle.context,
            created_at=utcnow(),
        )


async def _link_orders(session: AsyncSession, record: DecisionRecord) -> None:
    """Name the record on the orders its cycle placed, in the record's own transaction."""
    order_ids = [i for o in record.outcomes for i in o.get("order_ids") or ()]
    if order_ids:
        await session.execute(
            update(TradingOrder)
            .where(TradingOrder.id.in_(order_ids), TradingOrder.account_id == record.account_id)
            .values(decision_id=record.id)
        )
