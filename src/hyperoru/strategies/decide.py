"""The decide step every decision path shares — live cycles, signal firings and prompt
backtests: ask the model (or take a stored answer), parse it strictly, and say what came
of it in one typed ``Decided``. A failed call or an unusable answer is an outcome with
an ``error``, never an exception, so every caller records failures the same way."""

from __future__ import annotations

from dataclasses import dataclass

from hyperoru.strategies.decision import Decision, DecisionParseError, parse_model_output
from hyperoru.strategies.llm.base import LlmClient, LlmError, LlmRequest, TokenUsage


@dataclass(frozen=True, slots=True)
class Decided:
    """What one decide step produced: the decisions (possibly none, if it failed), the
    model's raw answer and reasoning, and its cost. ``error`` is safe to show the owner."""

    model: str | None
    raw_output: str | None = None
    reasoning: str | None = None
    decisions: tuple[Decision, ...] = ()
    error: str | None = None
    latency_ms: int = 0
    # None when the model gave no answer (its call failed).
    usage: TokenUsage | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def read_answer(
    text: str,
    *,
    model: str | None,
    reasoning: str | None = None,
    latency_ms: int = 0,
    usage: TokenUsage | None = None,
) -> Decided:
    """An answer already in hand (fresh, or from the backtest answer cache) → ``Decided``.
    The decisions' own reasons stand in for the model's reasoning when it gave none."""
    usage = usage or TokenUsage()
    try:
        decisions = tuple(parse_model_output(text))
    except DecisionParseError as exc:
        return Decided(
            model=model,
            raw_output=text,
            reasoning=reasoning,
            error=f"unusable model answer: {exc}",
            latency_ms=latency_ms,
            usage=usage,
        )
    reasons = [d.reasoning for d in decisions if d.reasoning]
    if reasons and not reasoning:
        reasoning = "\n".join(reasons)
    return Decided(
        model=model,
        raw_output=text,
        reasoning=reasoning,
        decisions=decisions,
        latency_ms=latency_ms,
        usage=usage,
    )


async def decide(model: LlmClient, request: LlmRequest) -> Decided:
    """Ask ``model`` once and read its answer. Holds nothing while it waits: callers
    must not hold a database session or transaction across this call."""
    try:
        answer = await model.complete(request)
    except LlmError as exc:
        return Decided(
            model=model.model_name,
            error=f"model call failed: {exc.message}",
            latency_ms=exc.latency_ms,
        )
    return read_answer(
        answer.text,
        model=model.model_name,
        reasoning=answer.reasoning,
        latency_ms=answer.latency_ms,
        usage=answer.usage,
    )
