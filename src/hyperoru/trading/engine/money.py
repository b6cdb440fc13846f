"""Decimal arithmetic rules shared by every ledger computation of the engine."""

from __future__ import annotations

from collections.abc import Callable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

ZERO = Decimal(0)
# Ledger amounts (cash, fees, realised PnL, funding) are kept to 1e-8 USD: finer than USDC's
# 6 decimals, so rounding never shows in a displayed number, yet sums stay exact.
MONEY_QUANTUM = Decimal("1E-8")
# Average entry prices are the only divided quantities besides margin; 12 decimals keep
# the rounding of a weighted average far below a displayed cent.
PRICE_QUANTUM = Decimal("1E-12")

# Pinned so a caller that changes the thread's decimal context cannot change a replay.
_ENGINE_CONTEXT = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def average_price(value: Decimal) -> Decimal:
    return value.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


def in_engine_context(function: Callable[P, R]) -> Callable[P, R]:
    """Run a public engine entry point under the engine's own decimal context."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(_ENGINE_CONTEXT):
            return function(*args, **kwargs)

    return wrapper
