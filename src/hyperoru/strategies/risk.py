"""Risk rules enforced in code, after parsing and before any order: the model proposes,
these rules dispose. A rule never adjusts a decision (no clamping); it rejects it with a
reason that is recorded with the decision."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from hyperoru.strategies.decision import Decision

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class TraderLimits:
    symbols: frozenset[str]
    default_leverage: int
    max_leverage: int
    max_position_notional: Decimal | None
    max_open_positions: int | None


@dataclass(frozen=True, slots=True)
class BookContext:
    """What the rules need to know about the account right now."""

    available_balance: Decimal
    open_position_symbols: Collection[str]
    prices: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class Verdict:
    approved: bool
    reason: str
    leverage: int | None = None
    notional: Decimal | None = None

    @classmethod
    def reject(cls, reason: str) -> Verdict:
        return cls(approved=False, reason=reason)


def _leverage(decision: Decision, limits: TraderLimits) -> int | str:
    raw = decision.leverage if decision.leverage is not None else Decimal(limits.default_leverage)
    if raw != raw.to_integral_value():
        return f"leverage {raw} is not a whole number"
    if raw < ONE:
        return f"leverage {raw} is below 1"
    if raw > limits.max_leverage:
        return f"leverage {raw} exceeds the trader's limit of {limits.max_leverage}"
    return int(raw)


def check(decision: Decision, limits: TraderLimits, context: BookContext) -> Verdict:
    """Approve or reject one decision; approved opening decisions carry leverage and notional."""
    if decision.operation == "hold":
        return Verdict(approved=True, reason="hold: nothing to execute")
    symbol = decision.symbol or ""
    if symbol not in limits.symbols:
        return Verdict.reject(f"symbol {symbol} is not in the trader's list")
    if decision.operation == "close":
        if symbol not in context.open_position_symbols:
            return Verdict.reject(f"no open {symbol} position to close")
        return Verdict(approved=True, reason="close the position")

    leverage = _leverage(decision, limits)
    if isinstance(leverage, str):
        return Verdict.reject(leverage)
    fraction = decision.size_fraction
    if fraction is None:
        return Verdict.reject("no size given (size_pct or target_portion_of_balance)")
    if not Decimal(0) < fraction <= ONE:
        return Verdict.reject(f"size {fraction * 100}% is outside (0, 100]%")
    price = context.prices.get(symbol)
    if price is None or price <= 0:
        return Verdict.reject(f"no price for {symbol}")
    notional = context.available_balance * fraction * leverage
    if notional <= 0:
        return Verdict.reject("no available balance")
    if limits.max_position_notional is not None and notional > limits.max_position_notional:
        return Verdict.reject(
            f"notional {notional:.2f} exceeds the trader's limit of {limits.max_position_notional}"
        )
    opening_new = symbol not in context.open_position_symbols
    if (
        opening_new
        and limits.max_open_positions is not None
        and len(context.open_position_symbols) >= limits.max_open_positions
    ):
        return Verdict.reject(
            f"already {len(context.open_position_symbols)} open positions "
            f"(limit {limits.max_open_positions})"
        )
    return Verdict(approved=True, reason="within limits", leverage=leverage, notional=notional)
