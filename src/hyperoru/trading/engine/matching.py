"""Fill models: the capped book walk for takers and the trade-through rule for resting limits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hyperoru.trading.engine.enums import Side
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.money import ZERO


@dataclass(frozen=True, slots=True)
class Execution:
    """A slice of an order filled at one price (one book level, or the cap price)."""

    price: Decimal
    quantity: Decimal


def price_cap(market: MarketSnapshot, side: Side, slippage_cap: Decimal) -> Decimal:
    """The worst price a taker may reach: mid +/- cap, measured from the book's mid."""
    return market.reference_mid * (1 + side.sign * slippage_cap)


def walk_book(
    market: MarketSnapshot,
    side: Side,
    quantity: Decimal,
    slippage_cap: Decimal,
    limit_price: Decimal | None = None,
) -> tuple[Execution, ...]:
    """Take liquidity level by level, best first, never past the cap or the limit price."""
    worst = price_cap(market, side, slippage_cap)
    if limit_price is not None:
        worst = min(worst, limit_price) if side is Side.BUY else max(worst, limit_price)
    return walk_book_to(market, side, quantity, worst)


def walk_book_to(
    market: MarketSnapshot, side: Side, quantity: Decimal, worst: Decimal
) -> tuple[Execution, ...]:
    """Take liquidity level by level, best first, never past ``worst``."""
    executions: list[Execution] = []
    left = quantity
    for level in market.book.levels_to_take(side):
        if left <= 0 or (level.price > worst if side is Side.BUY else level.price < worst):
            break
        taken = min(left, level.size)
        executions.append(Execution(level.price, taken))
        left -= taken
    return tuple(executions)


def walk_book_to_completion(
    market: MarketSnapshot, side: Side, quantity: Decimal, slippage_cap: Decimal
) -> tuple[Execution, ...]:
    """Forced closes (liquidations): the book within the cap, the remainder at the cap."""
    executions = walk_book(market, side, quantity, slippage_cap)
    left = quantity - sum((e.quantity for e in executions), ZERO)
    if left > 0:
        executions += (Execution(price_cap(market, side, slippage_cap), left),)
    return executions


def would_cross(market: MarketSnapshot, side: Side, price: Decimal) -> bool:
    """A limit at ``price`` would take liquidity now (the post-only test)."""
    opposite = market.book.best_ask if side is Side.BUY else market.book.best_bid
    if opposite is None:
        return False
    return price >= opposite if side is Side.BUY else price <= opposite


def is_traded_through(market: MarketSnapshot, side: Side, price: Decimal) -> bool:
    """A resting limit fills when the book reaches it or trades go strictly beyond it.

    Touching the book side counts (a seller at or below our bid would have hit us first);
    a trade exactly at our price does not, since the queue ahead of us may have absorbed it.
    """
    if would_cross(market, side, price):
        return True
    if side is Side.BUY:
        return market.low is not None and market.low < price
    return market.high is not None and market.high > price
