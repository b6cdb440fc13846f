"""Resting limit orders fill at their own price, as maker, once the market trades through."""

from __future__ import annotations

from hyperoru.trading.engine.enums import Liquidity, OrderStatus, RejectCode
from hyperoru.trading.engine.ledger import Ledger
from hyperoru.trading.engine.matching import Execution, is_traded_through
from hyperoru.trading.engine.money import ZERO


def fill_resting_orders(ledger: Ledger) -> None:
    """Fill every traded-through order in full, oldest first (there is no queue model)."""
    for order in list(ledger.orders):
        market = ledger.markets.get(order.symbol)
        if market is None or not is_traded_through(market, order.side, order.price):
            continue
        quantity = order.remaining
        if order.reduce_only:
            position = ledger.positions.get(order.symbol)
            reducible = abs(position.size) if position and position.side is not order.side else ZERO
            quantity = min(quantity, reducible)
            if quantity == 0:
                ledger.remove_order(
                    order,
                    OrderStatus.CANCELLED,
                    order.filled_quantity,
                    RejectCode.REDUCE_ONLY_REJECTED,
                )
                continue
        ledger.fill(
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            execution=Execution(order.price, quantity),
            liquidity=Liquidity.MAKER,
            leverage=order.leverage,
            client_order_id=order.client_order_id,
            margin_mode=order.margin_mode,
        )
        filled = order.filled_quantity + quantity
        if filled == order.quantity:
            ledger.remove_order(order, OrderStatus.FILLED, filled)
        else:
            # Only a reduce-only order stops short: the rest would open the other way.
            ledger.remove_order(
                order, OrderStatus.CANCELLED, filled, RejectCode.REDUCE_ONLY_REJECTED
            )
        ledger.arm_triggers_of(order.order_id)
        ledger.retire_stale_triggers(order.symbol)
