"""Decisions in a replay: read by the live parser, checked and sized by the live step.

A program's answer is read as a live cycle reads it (``strategies.decision.normalise``
on each item, at most ``MAX_DECISIONS``; one unusable item makes the whole answer
unusable). Each decision waits for the next bar's open, where ``order_step`` checks it
against the account as it is then, after the previous decision's order executed, at the
prices the decision was taken at: the live rule (docs/BACKTESTS.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decision import MAX_DECISIONS, Decision, DecisionParseError, normalise
from hyperoru.strategies.risk import TraderLimits

AWAITING_OPEN = "checked at the next bar's open, against the account then"


def decimalised(raw: Any) -> Any:
    """Floats as the decimals they print as: what a live cycle gets when the program's
    answer goes through JSON and is parsed with ``parse_float=Decimal``."""
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if isinstance(raw, Mapping):
        return {k: decimalised(v) for k, v in raw.items()}
    return raw


def read_decisions(raw_decisions: Sequence[Mapping[str, Any]]) -> list[Decision]:
    """A program's raw answer as typed decisions. Raises ``DecisionParseError``, as a live
    cycle fails on the same answer."""
    if len(raw_decisions) > MAX_DECISIONS:
        raise DecisionParseError(f"at most {MAX_DECISIONS} decisions per answer")
    return [normalise(decimalised(raw)) for raw in raw_decisions]


@dataclass(frozen=True, slots=True)
class PendingDecision:
    decision: Decision
    # The closes the decision was taken at: the prices it is checked and sized with.
    prices: Mapping[str, Decimal]
    # The decision's outcome, completed when it is checked and its order executes.
    outcome: dict[str, Any]


def pending(decision: Decision, prices: Mapping[str, Decimal]) -> PendingDecision:
    return PendingDecision(decision, prices, outcome_of(decision.operation, decision.symbol))


def outcome_of(operation: str | None, symbol: str | None) -> dict[str, Any]:
    return {
        "operation": operation,
        "symbol": symbol,
        "approved": None,
        "reason": AWAITING_OPEN,
        "order_id": None,
        "order": None,
        "execution": None,
    }


def limits_of(settings: ReplaySettings) -> TraderLimits:
    return TraderLimits(
        symbols=frozenset(settings.symbols),
        default_leverage=settings.default_leverage,
        max_leverage=settings.max_leverage,
        max_position_notional=settings.max_position_notional,
        max_open_positions=settings.max_open_positions,
    )
