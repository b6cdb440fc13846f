"""One decision, checked and turned into an order against the account as it is right
before that order: the step live cycles and backtest replays share. Pure.

The caller re-reads the book (available balance, open positions) before every decision
of an answer, after the previous decision's order executed: live from the venue, in a
replay from the engine at the next bar's open. So ``[close BTC, long ETH 90%]`` sizes
the long against the balance the close freed, in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from hyperoru.exchanges.base import OrderIntent, PositionReport
from hyperoru.strategies.decision import Decision
from hyperoru.strategies.intents import order_for
from hyperoru.strategies.risk import BookContext, TraderLimits, Verdict, check


@dataclass(frozen=True, slots=True)
class Book:
    """The account as read right before one order."""

    available_balance: Decimal
    positions: Mapping[str, PositionReport]


@dataclass(frozen=True, slots=True)
class OrderStep:
    """The verdict on one decision and, when it approves something to execute, the order."""

    verdict: Verdict
    intent: OrderIntent | None = None


def order_step(
    decision: Decision,
    limits: TraderLimits,
    book: Book,
    *,
    prices: Mapping[str, Decimal],
    sz_decimals: Mapping[str, int],
    name: str,
) -> OrderStep:
    """Check ``decision`` against ``limits`` and ``book`` at the prices the decision was
    taken at, and give the order it becomes (``None`` for a hold or a rejection)."""
    context = BookContext(
        available_balance=book.available_balance,
        open_position_symbols=tuple(book.positions),
        prices=dict(prices),
    )
    verdict = check(decision, limits, context)
    if not verdict.approved or decision.operation == "hold":
        return OrderStep(verdict)
    symbol = decision.symbol or ""
    intent = order_for(
        decision,
        verdict,
        price=prices[symbol],
        sz_decimals=sz_decimals.get(symbol, 0),
        positions=dict(book.positions),
        name=name,
    )
    return OrderStep(verdict, intent)
