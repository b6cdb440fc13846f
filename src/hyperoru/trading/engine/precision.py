"""Hyperliquid's size and price precision rules for perpetuals."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

MAX_SIGNIFICANT_FIGURES = 5
MAX_PRICE_DECIMALS = 6  # minus the asset's sz_decimals, for perpetuals


def round_size(quantity: Decimal, sz_decimals: int) -> Decimal:
    """Round down to the asset's lot, so an order never trades more than was asked."""
    return quantity.quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)


def is_valid_price(price: Decimal, sz_decimals: int) -> bool:
    """At most 5 significant figures and (6 - sz_decimals) decimals; integers always pass."""
    if price == price.to_integral_value():
        return True
    _sign, digits, exponent = price.normalize().as_tuple()
    assert isinstance(exponent, int)  # finite by construction of the request
    decimals = -exponent
    significant = len(digits)
    return significant <= MAX_SIGNIFICANT_FIGURES and decimals <= MAX_PRICE_DECIMALS - sz_decimals


def nearest_valid_price(price: Decimal, sz_decimals: int) -> Decimal:
    """The closest price the venue accepts: 5 significant figures, at most
    (6 - sz_decimals) decimals, integers kept whole. For prices a strategy derives
    (e.g. a take-profit 5% above the mark), never for prices a client sent."""
    if price <= 0 or price == price.to_integral_value():
        return price
    adjusted = price.adjusted()  # exponent of the leading digit
    by_figures = MAX_SIGNIFICANT_FIGURES - 1 - adjusted
    decimals = max(0, min(by_figures, MAX_PRICE_DECIMALS - sz_decimals))
    rounded = price.quantize(Decimal(1).scaleb(-decimals))
    return rounded.normalize() if rounded != rounded.to_integral_value() else rounded
