"""API shapes of the decision log."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hyperoru.api_types import JsonDecimal, ResponseModel, StoredOut, UtcTime


class ParsedDecisionOut(StoredOut):
    """A decision as parsed from the model's (or the program's) answer."""

    operation: str | None = None
    symbol: str | None = None
    leverage: float | None = None
    size_fraction: float | None = None
    take_profit_pct: float | None = None
    stop_loss_pct: float | None = None
    take_profit_price: float | None = None
    stop_loss_price: float | None = None
    max_price: float | None = None
    min_price: float | None = None
    reasoning: str | None = None


class CycleOutcomeOut(StoredOut):
    """What came of one decision of a live cycle: the risk check, then the order."""

    index: int | None = None
    operation: str | None = None
    symbol: str | None = None
    approved: bool | None = None
    reason: str | None = None
    order_ids: list[int] = Field(default_factory=list)
    execution_status: str | None = None
    reject_code: str | None = None


class DecisionTriggerOut(StoredOut):
    """What started the cycle."""

    type: str = "scheduled"
    at: UtcTime | None = None
    pool_id: int | None = None
    binding_id: int | None = None
    values: dict[str, Any] | None = Field(
        default=None, description="the signal readings that fired the pool, when a pool did"
    )


class DecisionOut(ResponseModel):
    id: int
    account_id: int
    status: str
    trigger: DecisionTriggerOut
    trigger_type: str
    strategy_type: str
    prompt_id: int | None
    program_id: int | None
    # The binding that ran (``/api/bindings``); null for the trader's primary strategy.
    binding_id: int | None
    model: str | None
    rendered_prompt: str | None
    raw_output: str | None
    reasoning: str | None
    decisions: list[ParsedDecisionOut]
    outcomes: list[CycleOutcomeOut]
    # The first decision's operation and symbol, as the documented decision log shows them.
    operation: str | None
    symbol: str | None
    executed: bool
    order_ids: list[int]
    error: str | None
    latency_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    realized_pnl: JsonDecimal | None
    created_at: UtcTime

    @classmethod
    def of(cls, record: Any) -> DecisionOut:
        first = record.decisions[0] if record.decisions else {}
        return cls(
            id=record.id,
            account_id=record.account_id,
            status=record.status,
            trigger=record.trigger,
            trigger_type=record.trigger.get("type", "scheduled"),
            strategy_type=record.strategy_type,
            prompt_id=record.prompt_id,
            program_id=record.program_id,
            binding_id=record.binding_id,
            model=record.model,
            rendered_prompt=record.rendered_prompt,
            raw_output=record.raw_output,
            reasoning=record.reasoning,
            decisions=record.decisions,
            outcomes=record.outcomes,
            operation=first.get("operation"),
            symbol=first.get("symbol"),
            executed=record.executed,
            order_ids=[oid for o in record.outcomes for oid in o.get("order_ids", [])],
            error=record.error,
            latency_ms=record.latency_ms,
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            realized_pnl=record.realized_pnl,
            created_at=record.created_at,
        )
