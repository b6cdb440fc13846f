"""Symbol rules from ``GET /fapi/v1/exchangeInfo`` and the rounding they imply.

Our symbols are coins (``BTC``); Binance USDⓈ-M perpetuals are USDT pairs (``BTCUSDT``).
Only trading USDT perpetuals become rules: other quotes and delivery contracts are not
ours to trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Any

from hyperoru.exchanges.venue import Side, SymbolRules

QUOTE = "USDT"
# exchangeInfo carries no leverage; the leverage brackets do. Without them, the venue's
# lowest common ceiling for USDT perpetuals.
DEFAULT_MAX_LEVERAGE = 20


def pair_of(symbol: str) -> str:
    return f"{symbol.upper()}{QUOTE}"


def symbol_of(pair: str) -> str:
    """Our symbol for a pair; pairs of another quote keep their full name."""
    if pair.endswith(QUOTE) and len(pair) > len(QUOTE):
        return pair[: -len(QUOTE)]
    return pair


def _filters(entry: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["filterType"]: f for f in entry.get("filters", ()) if "filterType" in f}


def parse_exchange_info(
    info: Mapping[str, Any], max_leverage: Mapping[str, int] | None = None
) -> dict[str, SymbolRules]:
    """Rules per our symbol. ``max_leverage`` is per pair, from the leverage brackets."""
    rules: dict[str, SymbolRules] = {}
    for entry in info.get("symbols", ()):
        if (
            entry.get("contractType") != "PERPETUAL"
            or entry.get("quoteAsset") != QUOTE
            or entry.get("status") != "TRADING"
        ):
            continue
        pair = entry["symbol"]
        filters = _filters(entry)
        step = Decimal(filters["LOT_SIZE"]["stepSize"])
        market_step = Decimal(filters.get("MARKET_LOT_SIZE", {}).get("stepSize", step))
        # One step has to serve limit and market orders alike: the coarser one is a
        # multiple of the finer on every listed contract.
        step = max(step, market_step)
        symbol = symbol_of(pair)
        rules[symbol] = SymbolRules(
            symbol=symbol,
            tick_size=Decimal(filters["PRICE_FILTER"]["tickSize"]),
            step_size=step,
            min_notional=Decimal(filters.get("MIN_NOTIONAL", {}).get("notional", "0")),
            max_leverage=(max_leverage or {}).get(pair, DEFAULT_MAX_LEVERAGE),
        )
    return rules


def parse_leverage_brackets(brackets: Any) -> dict[str, int]:
    """Each pair's highest leverage: the first bracket's ``initialLeverage``."""
    result: dict[str, int] = {}
    for entry in brackets if isinstance(brackets, list) else [brackets]:
        tiers = entry.get("brackets") or []
        if tiers:
            result[entry["symbol"]] = max(int(tier["initialLeverage"]) for tier in tiers)
    return result


def _to_multiple(value: Decimal, unit: Decimal, rounding: str) -> Decimal:
    return (value / unit).to_integral_value(rounding=rounding) * unit


def round_quantity(rules: SymbolRules, quantity: Decimal) -> Decimal:
    """Down to the step: never more than was asked for."""
    return _to_multiple(quantity, rules.step_size, ROUND_DOWN).normalize()


def round_price(rules: SymbolRules, price: Decimal, side: Side) -> Decimal:
    """To the tick, in the direction that keeps the order at least as safe for the trader:
    a buy never pays more than asked, a sell never receives less."""
    if rules.tick_size is None:
        return price
    rounding = ROUND_FLOOR if side == "buy" else ROUND_CEILING
    return _to_multiple(price, rules.tick_size, rounding).normalize()


def meets_min_notional(
    rules: SymbolRules, quantity: Decimal, price: Decimal, *, reduce_only: bool
) -> bool:
    # The venue waives the minimum for reduce-only orders (its -4164 text says so).
    return reduce_only or quantity * price >= rules.min_notional


def wire(value: Decimal) -> str:
    """A decimal as Binance reads it: plain digits, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")
