"""An order as stored or intended, turned into the engine's ``OrderRequest``.

Pure, so the paper client (stored orders) and backtest replays (order intents) build
engine requests by one rule.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from hyperoru.trading.engine import MarginMode, OrderRequest, OrderType, Side, TimeInForce


class OrderFields(Protocol):
    """What a stored order (``TradingOrder``) and an ``OrderIntent`` have in common."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def order_type(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def reduce_only(self) -> bool: ...
    @property
    def time_in_force(self) -> str: ...
    @property
    def take_profit_price(self) -> Decimal | None: ...
    @property
    def stop_loss_price(self) -> Decimal | None: ...
    @property
    def client_order_id(self) -> str | None: ...
    @property
    def margin_mode(self) -> str | None: ...


def engine_request(order: OrderFields, *, order_id: str, leverage: int) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        symbol=order.symbol,
        side=Side(order.side),
        order_type=OrderType(order.order_type),
        quantity=order.quantity,
        price=order.price,
        leverage=leverage,
        reduce_only=order.reduce_only,
        time_in_force=TimeInForce(order.time_in_force),
        take_profit_price=order.take_profit_price,
        stop_loss_price=order.stop_loss_price,
        client_order_id=order.client_order_id,
        # A stored order carries its resolved mode; an intent without one is cross.
        margin_mode=MarginMode(order.margin_mode or MarginMode.CROSS),
    )
