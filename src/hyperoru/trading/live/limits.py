"""The risk limits a live order passes before it is sent, and its rounding to the venue's
rules. Pure: no I/O, no clock; every input is a value.

A reduce-only order can only shrink exposure, so it passes the trader's notional, symbol
and daily-loss limits (a breached trader must still be able to close); it is still
rounded to the venue's size step.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Literal

from hyperoru.errors import ApiError
from hyperoru.exchanges.venue import SymbolRules

# How far from the reference price a market order may fill (the venue's own market orders
# are aggressive limits at about this distance: Hyperliquid's SDK uses 5%).
MARKET_SLIPPAGE = Decimal("0.05")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """One trader's limits (None: no limit of that kind)."""

    max_leverage: int
    max_order_notional: Decimal | None = None
    max_position_notional: Decimal | None = None
    max_daily_loss: Decimal | None = None
    allowed_symbols: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class OrderToCheck:
    symbol: str
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit"]
    quantity: Decimal
    price: Decimal | None  # the limit price; None for a market order
    leverage: int
    reduce_only: bool


@dataclass(frozen=True, slots=True)
class Rounded:
    quantity: Decimal
    price: Decimal  # the limit price, or a market order's worst accepted price


def daily_loss(day_start_equity: Decimal | None, equity: Decimal) -> Decimal:
    """Realised plus unrealised loss since the UTC day began (fees and funding included):
    how far equity fell below its first reading of the day; 0 for a gain."""
    if day_start_equity is None:
        return Decimal(0)
    return max(day_start_equity - equity, Decimal(0))


def daily_loss_breached(limits: RiskLimits, loss: Decimal) -> bool:
    return limits.max_daily_loss is not None and loss >= limits.max_daily_loss


def _round_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


def round_price(price: Decimal, rules: SymbolRules, *, up: bool) -> Decimal:
    """A price the venue accepts, moved towards the safe side (``up`` for a sell's limit)."""
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    if rules.tick_size is not None:
        return _round_step(price, rules.tick_size, rounding)
    rounded = price
    if rules.price_significant_figures is not None and price != price.to_integral_value():
        digits = rules.price_significant_figures - price.adjusted() - 1
        rounded = rounded.quantize(Decimal(1).scaleb(-max(digits, 0)), rounding=rounding)
    if rules.max_price_decimals is not None:
        rounded = rounded.quantize(Decimal(1).scaleb(-rules.max_price_decimals), rounding=rounding)
    return rounded.normalize() if rounded == rounded.to_integral_value() else rounded


def round_order(order: OrderToCheck, rules: SymbolRules, reference: Decimal) -> Rounded:
    """Size down to the step; a limit price rounded away from crossing (buy down, sell
    up); a market order's worst price ``MARKET_SLIPPAGE`` beyond the reference."""
    quantity = _round_step(order.quantity, rules.step_size, ROUND_DOWN)
    sell = order.side == "sell"
    if order.order_type == "limit" and order.price is not None:
        return Rounded(quantity, round_price(order.price, rules, up=sell))
    worst = reference * (1 - MARKET_SLIPPAGE if sell else 1 + MARKET_SLIPPAGE)
    # The worst price must stay on the far side of the reference after rounding.
    return Rounded(quantity, round_price(worst, rules, up=not sell))


def check_order(
    order: OrderToCheck,
    *,
    limits: RiskLimits,
    rules: SymbolRules | None,
    reference: Decimal,
    position_size: Decimal,
    loss_today: Decimal,
) -> ApiError | Rounded:
    """The order rounded to the venue's rules, or the refusal (422) of the first limit it
    breaks; the caller raises it.

    ``reference`` prices the notional checks (the limit price, or the mark for a market
    order); ``position_size`` is the trader's signed position in the symbol now.
    """
    if rules is None:
        return ApiError(422, "UNKNOWN_SYMBOL", f"{order.symbol} is not tradable on this venue")
    rounded = round_order(order, rules, reference)
    if rounded.quantity <= 0:
        return ApiError(
            422,
            "INVALID_SIZE",
            f"quantity {order.quantity} is below the venue's size step {rules.step_size}",
            details={"step_size": str(rules.step_size)},
        )
    if order.reduce_only:
        return rounded
    if limits.allowed_symbols is not None and order.symbol not in limits.allowed_symbols:
        return ApiError(
            422,
            "SYMBOL_NOT_ALLOWED",
            f"{order.symbol} is not in this trader's allowed_symbols",
            details={"allowed_symbols": sorted(limits.allowed_symbols)},
        )
    if daily_loss_breached(limits, loss_today):
        return ApiError(
            422,
            "DAILY_LOSS_LIMIT",
            f"today's loss {loss_today} has reached max_daily_loss {limits.max_daily_loss}",
            details={"loss": str(loss_today), "max_daily_loss": str(limits.max_daily_loss)},
        )
    allowed_leverage = min(limits.max_leverage, rules.max_leverage)
    if order.leverage > allowed_leverage:
        return ApiError(
            422,
            "LEVERAGE_TOO_HIGH",
            f"Leverage {order.leverage} is above this trader's limit of {allowed_leverage}",
            details={"leverage": order.leverage, "max_leverage": allowed_leverage},
        )
    price = order.price if order.order_type == "limit" and order.price else reference
    notional = rounded.quantity * price
    if notional < rules.min_notional:
        return ApiError(
            422,
            "MIN_NOTIONAL",
            f"order value {notional} is below the venue minimum {rules.min_notional}",
            details={"notional": str(notional), "min_notional": str(rules.min_notional)},
        )
    if limits.max_order_notional is not None and notional > limits.max_order_notional:
        return ApiError(
            422,
            "ORDER_NOTIONAL_TOO_HIGH",
            f"order value {notional} is above max_order_notional {limits.max_order_notional}",
            details={
                "notional": str(notional),
                "max_order_notional": str(limits.max_order_notional),
            },
        )
    signed = rounded.quantity if order.side == "buy" else -rounded.quantity
    after = abs(position_size + signed) * price
    grows = abs(position_size + signed) > abs(position_size)
    if limits.max_position_notional is not None and grows and after > limits.max_position_notional:
        return ApiError(
            422,
            "POSITION_NOTIONAL_TOO_HIGH",
            f"the position would be worth {after}, above max_position_notional "
            f"{limits.max_position_notional}",
            details={
                "notional": str(after),
                "max_position_notional": str(limits.max_position_notional),
            },
        )
    return rounded
