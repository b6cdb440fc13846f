"""The one decision pipeline, for LLM and program traders alike:

trigger → the strategy it runs (the trader's primary strategy or one of its bindings) →
prepare the prompt → ask the model → parse strictly → check every decision
against the trader's limits → execute through the trader's ExchangeClient → record it
all → publish it on ``model_chat``.

Collaborators come in through ``PipelineParts`` so the pipeline never knows whether it
talks to the paper engine or a venue, to OpenAI or the builtin model.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account, AccountStrategy
from hyperoru.errors import ApiError
from hyperoru.exchanges.base import ExchangeClient, ExecutionReport
from hyperoru.runtime.trigger import CycleOutcome, Trigger
from hyperoru.strategies.book_lock import BookLocks
from hyperoru.strategies.decide import decide
from hyperoru.strategies.decision import Decision
from hyperoru.strategies.intents import order_for
from hyperoru.strategies.llm.base import LlmClient, LlmError, LlmRequest, ModelContext
from hyperoru.strategies.plan import (
    BindingUnavailable,
    StrategyPlan,
    binding_plan,
    primary_plan,
)
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.risk import BookContext, TraderLimits, check
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.pipeline")


@dataclass(frozen=True, slots=True)
class PreparedPrompt:
    """A rendered prompt with the facts behind it."""

    text: str
    prompt_id: int | None
    context: ModelContext
    prices: dict[str, Decimal]
    size_decimals: dict[str, int]
    system: str | None = None


PromptPreparer = Callable[[AsyncSession, Account, StrategyPlan, Trigger], Awaitable[PreparedPrompt]]
ModelFactory = Callable[[AsyncSession, Account, StrategyPlan], Awaitable[LlmClient]]
Publisher = Callable[[DecisionRecord], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PipelineParts:
    sessions: async_sessionmaker[AsyncSession]
    exchange: ExchangeClient
    prepare_prompt: PromptPreparer
    model_for: ModelFactory
    publish: Publisher | None = None


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


def _limits(account: Account, plan: StrategyPlan) -> TraderLimits:
    return TraderLimits(
        symbols=frozenset(plan.symbols),
        default_leverage=account.default_leverage,
        max_leverage=account.max_leverage,
        max_position_notional=account.max_position_notional,
        max_open_positions=account.max_open_positions,
    )


class DecisionPipeline:
    def __init__(self, parts: PipelineParts) -> None:
        self._parts = parts
        # One trader's cycles (a schedule, a binding's schedule and signals may overlap,
        # in this process or others) check and place their orders one at a time, so two
        # of them can never both pass the open-positions limit on the same book. Models
        # are still asked in parallel.
        self._books = BookLocks(parts.sessions)

    async def run(self, account_id: int, trigger: Trigger) -> DecisionRecord:
        """Run one cycle for one trader and return its recorded decision: the strategy
        of ``trigger.binding_id``, or the trader's primary strategy. Raises
        ``BindingUnavailable`` (nothing recorded) when that binding is off or gone."""
        cycle = _Cycle()
        async with self._parts.sessions() as session:
            account = await session.get(Account, account_id)
            strategy = await session.get(AccountStrategy, account_id)
            if account is None or account.deleted_at is not None:
                raise ApiError(404, "ACCOUNT_NOT_FOUND", "Account not found")
            if trigger.binding_id is not None:
                cycle.plan = await binding_plan(
                    session, account=account, strategy=strategy, binding_id=trigger.binding_id
                )
            elif strategy is not None:
                cycle.plan = primary_plan(account, strategy)
            if cycle.plan is None:
                cycle.error = "the trader has no strategy configured (PUT /strategy)"
            else:
                await self._decide(session, account, cycle.plan, trigger, cycle)
            record = self._record(account, trigger, cycle)
            session.add(record)
            await session.commit()
        if self._parts.publish is not None:
            try:
                await self._parts.publish(record)
            except Exception:  # the record is stored; a lost push must not fail the cycle
                log.exception("could not publish a decision", extra={"account_id": account_id})
        return record

    async def run_cycle(self, account_id: int, trigger: Trigger) -> CycleOutcome:
        """The runtime's view of ``run``: did the trader manage to decide?"""
        try:
            record = await self.run(account_id, trigger)
        except BindingUnavailable:
            return CycleOutcome(ok=True, ran=False)
        return CycleOutcome(ok=record.status == "ok", error=record.error)

    async def _decide(
        self,
        session: AsyncSession,
        account: Account,
        plan: StrategyPlan,
        trigger: Trigger,
        cycle: _Cycle,
    ) -> None:
        try:
            prepared = await self._parts.prepare_prompt(session, account, plan, trigger)
        except ApiError as exc:
            cycle.error = f"could not prepare the prompt: {exc.message}"
            return
        cycle.rendered, cycle.prompt_id = prepared.text, prepared.prompt_id
        try:
            model = await self._parts.model_for(session, account, plan)
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
        async with self._books.hold(account.id):
            await self._execute_all(account, plan, prepared, cycle)

    async def _execute_all(
        self, account: Account, plan: StrategyPlan, prepared: PreparedPrompt, cycle: _Cycle
    ) -> None:
        exchange = self._parts.exchange
        limits = _limits(account, plan)
        for index, decision in enumerate(cycle.decisions):
            positions = {p.symbol: p for p in await exchange.positions(account_id=account.id)}
            balance = await exchange.balance(account_id=account.id)
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
            symbol = decision.symbol or ""
            intent = order_for(
                decision,
                verdict,
                price=prepared.prices[symbol],
                sz_decimals=prepared.size_decimals.get(symbol, 0),
                positions=positions,
                name=f"ai:{decision.operation}",
            )
            try:
                report: ExecutionReport = await exchange.place(account_id=account.id, intent=intent)
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
    def _record(account: Account, trigger: Trigger, cycle: _Cycle) -> DecisionRecord:
        return DecisionRecord(
            account_id=account.id,
            user_id=account.user_id,
            status="failed" if cycle.error else "ok",
            trigger=trigger.as_dict(),
            strategy_type=cycle.plan.strategy_type if cycle.plan else account.account_type,
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
            created_at=utcnow(),
        )
