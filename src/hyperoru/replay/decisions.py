"""Decisions to orders by the live rules: ``strategies.decision.normalise`` (either schema),
``strategies.risk.check`` (no clamping) and ``strategies.intents.order_for``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hyperoru.exchanges.base import PositionReport
from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decision import MAX_DECISIONS, DecisionParseError, normalise
from hyperoru.strategies.intents import order_for
from hyperoru.strategies.risk import BookContext, TraderLimits, check
from hyperoru.trading.engine import OrderRequest
from hyperoru.trading.order_requests import engine_request


def decimalised(raw: Any) -> Any:
    """Floats as the decimals they print as: what a live cycle gets when the program's
    answer goes through JSON and is parsed with ``parse_float=Decimal``."""
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if isinstance(raw, Mapping):
        return {k: decimalised(v) for k, v in raw.items()}
    return raw


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    request: OrderRequest
    # The decision's outcome; its "execution" is filled in when the order executes.
    outcome: dict[str, Any]


def limits_of(settings: ReplaySettings) -> TraderLimits:
    return TraderLimits(
        symbols=frozenset(settings.symbols),
        default_leverage=settings.default_leverage,
        max_leverage=settings.max_leverage,
        max_position_notional=settings.max_position_notional,
        max_open_positions=settings.max_open_positions,
    )


def plan(
    raw_decisions: Sequence[Mapping[str, Any]],
    *,
    settings: ReplaySettings,
    limits: TraderLimits,
    context: BookContext,
    positions: Callable[[], dict[str, PositionReport]],
    order_ids: Iterator[str],
) -> tuple[list[dict[str, Any]], list[PlannedOrder]]:
    """One outcome per decision (at most ``MAX_DECISIONS``, as in a live answer) and the
    orders the approved ones become, in decision order. ``positions`` is called only if
    a decision closes a position (the reports cost a margin computation each)."""
    outcomes: list[dict[str, Any]] = []
    orders: list[PlannedOrder] = []
    open_symbols = set(context.open_position_symbols)
    if len(raw_decisions) > MAX_DECISIONS:
        reason = f"at most {MAX_DECISIONS} decisions per answer"
        return [_outcome(None, None, False, reason)], []
    for raw in raw_decisions:
        try:
            decision = normalise(decimalised(raw))
        except DecisionParseError as exc:
            outcomes.append(_outcome(None, None, False, str(exc)))
            continue
        verdict = check(
            decision,
            limits,
            BookContext(context.available_balance, frozenset(open_symbols), context.prices),
        )
        outcome = _outcome(decision.operation, decision.symbol, verdict.approved, verdict.reason)
        outcomes.append(outcome)
        if not verdict.approved or decision.operation == "hold":
            continue
        symbol = decision.symbol or ""
        order_id = next(order_ids)
        intent = order_for(
            decision,
            verdict,
            price=context.prices[symbol],
            sz_decimals=settings.sz_decimals_of(symbol),
            positions=positions() if decision.operation == "close" else {},
            name=f"backtest:{order_id}",
        )
        try:
            request = engine_request(
                intent, order_id=order_id, leverage=intent.leverage or settings.default_leverage
            )
        except ValueError as exc:  # e.g. a non-positive limit price from the decision
            outcome.update(approved=False, reason=str(exc))
            continue
        outcome["order_id"] = order_id
        orders.append(PlannedOrder(request, outcome))
        if decision.operation != "close":
            open_symbols.add(symbol)
    return outcomes, orders


def _outcome(
    operation: str | None, symbol: str | None, approved: bool, reason: str
) -> dict[str, Any]:
    return {
        "operation": operation,
        "symbol": symbol,
        "approved": approved,
        "reason": reason,
        "order_id": None,
        "execution": None,
    }
