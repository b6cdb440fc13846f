"""Hyperliquid's order rules from ``meta``, and rounding prices and sizes to them.

Perps: the asset index is the position in ``meta.universe``; sizes have ``szDecimals``
decimals; prices have at most 5 significant figures and at most ``6 - szDecimals``
decimals (an integer price is always valid); an order must be worth at least $10.
Market orders are aggressive IOC limits at the mid plus or minus a slippage allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from hyperoru.exchanges.venue import Side, SymbolRules, VenueError

PRICE_SIGNIFICANT_FIGURES = 5
PERP_MAX_PRICE_DECIMALS = 6
MIN_ORDER_VALUE = Decimal(10)
# The SDK's market_open allowance; also the cap of a TP/SL trigger's market order.
MARKET_SLIPPAGE = Decimal("0.05")


@dataclass(frozen=True, slots=True)
class Market:
    """One perp: where it sits in the universe (its asset index) and its rules."""

    asset: int
    rules: SymbolRules


def markets_from_meta(meta: dict[str, Any]) -> dict[str, Market]:
    """``/info {"type": "meta"}`` → the tradable perps by coin (delisted ones left out)."""
    markets: dict[str, Market] = {}
    for asset, entry in enumerate(meta["universe"]):
        if entry.get("isDelisted"):
            continue
        sz_decimals = int(entry["szDecimals"])
        markets[entry["name"]] = Market(
            asset=asset,
            rules=SymbolRules(
                symbol=entry["name"],
                tick_size=None,
                step_size=Decimal(1).scaleb(-sz_decimals),
                min_notional=MIN_ORDER_VALUE,
                max_leverage=int(entry["maxLeverage"]),
                price_significant_figures=PRICE_SIGNIFICANT_FIGURES,
                max_price_decimals=PERP_MAX_PRICE_DECIMALS - sz_decimals,
            ),
        )
    return markets


def _price_decimals(price: Decimal, rules: SymbolRules) -> int:
    """How many decimals ``price`` may keep: the fewer of the decimals cap and 5 sig figs."""
    figures = rules.price_significant_figures or PRICE_SIGNIFICANT_FIGURES
    by_figures = figures - 1 - price.adjusted()
    cap = rules.max_price_decimals if rules.max_price_decimals is not None else by_figures
    return max(0, min(cap, by_figures))


def round_price(price: Decimal, rules: SymbolRules, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    if price <= 0:
        raise ValueError(f"price must be positive: {price}")
    rounded = price.quantize(Decimal(1).scaleb(-_price_decimals(price, rules)), rounding=rounding)
    return rounded.to_integral_value() if rounded == rounded.to_integral_value() else rounded


def price_is_valid(price: Decimal, rules: SymbolRules) -> bool:
    if price <= 0:
        return False
    if price == price.to_integral_value():
        return True
    _, digits, exponent = price.normalize().as_tuple()
    decimals = -int(exponent)
    figures = len(digits)
    max_figures = rules.price_significant_figures or PRICE_SIGNIFICANT_FIGURES
    max_decimals = rules.max_price_decimals
    return figures <= max_figures and (max_decimals is None or decimals <= max_decimals)


def round_size(size: Decimal, rules: SymbolRules) -> Decimal:
    """Down to the step: never more than asked for."""
    return size.quantize(rules.step_size, rounding=ROUND_DOWN)


def size_is_valid(size: Decimal, rules: SymbolRules) -> bool:
    return size > 0 and size == size.quantize(rules.step_size, rounding=ROUND_DOWN)


def worst_price(
    reference: Decimal, side: Side, rules: SymbolRules, slippage: Decimal = MARKET_SLIPPAGE
) -> Decimal:
    """The limit of a market order: ``reference`` moved against us by ``slippage``, rounded
    away from the reference so the allowance is never narrower than asked."""
    if side == "buy":
        return round_price(reference * (1 + slippage), rules, ROUND_CEILING)
    return round_price(reference * (1 - slippage), rules, ROUND_FLOOR)


def check_order(*, price: Decimal, size: Decimal, reduce_only: bool, rules: SymbolRules) -> None:
    """Refuse what the venue would refuse for its shape, before anything is signed."""
    if not size_is_valid(size, rules):
        raise VenueError(
            "VENUE_PRECISION",
            f"size {size} is not a positive multiple of {rules.step_size} for {rules.symbol}",
        )
    if not price_is_valid(price, rules):
        raise VenueError(
            "VENUE_PRECISION",
            f"price {price} has more than {rules.price_significant_figures} significant "
            f"figures or {rules.max_price_decimals} decimals for {rules.symbol}",
        )
    # A reduce-only order closes what is there, however small; the venue decides it.
    if not reduce_only and price * size < rules.min_notional:
        raise VenueError(
            "VENUE_MIN_NOTIONAL",
            f"order value {price * size} is below the minimum of {rules.min_notional}",
        )
