"""Decisions in a replay: read by the live parser, checked and sized by the live step.

A program's answer is read as a live cycle reads it (``parse_model_output`` over its
JSON: one unusable item makes the whole answer unusable). Each decision waits for the
next bar's open, where ``order_step`` checks it against the account as it is then,
after the previous decision's order executed, at the prices the decision was taken at:
the live rule (docs/BACKTESTS.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decision import Decision, DecisionParseError, parse_model_output
from hyperoru.strategies.risk import TraderLimits

AWAITING_OPEN = "checked at the next bar's open, against the account then"


def read_decisions(answer: Any) -> list[Decision]:
    """A program's answer (a decision, a list of them, or ``{"decisions": [...]}``) as
    typed decisions, read exactly as a live cycle reads it after the sandbox's JSON
    (floats as the decimals they print as). Raises ``DecisionParseError``, as a live
    cycle fails on the same answer."""
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError) as exc:
        raise DecisionParseError(f"the answer is not JSON data: {exc}") from None
    return parse_model_output(text)


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
