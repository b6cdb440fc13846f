"""The order status machine: which status may follow which.

The engine only emits legal transitions; a persistence layer applies each ``OrderUpdated``
through ``advance_status`` so a replayed or out-of-order event fails loudly instead of
silently rewriting history. Trigger orders use the same table (waiting -> open ->
triggered or cancelled).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hyperoru.trading.engine.enums import OrderStatus

_S = OrderStatus
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.REJECTED, _S.CANCELLED}),
        _S.WAITING: frozenset({_S.OPEN, _S.CANCELLED}),
        _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.TRIGGERED}),
        _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED}),
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.TRIGGERED: frozenset(),
    }
)


class InvalidTransition(ValueError):
    def __init__(self, current: OrderStatus, new: OrderStatus) -> None:
        super().__init__(f"an order cannot go from {current} to {new}")
        self.current = current
        self.new = new


def advance_status(current: OrderStatus, new: OrderStatus) -> OrderStatus:
    """Return ``new`` if an order in ``current`` may move to it, else raise."""
    if new not in TRANSITIONS[current]:
        raise InvalidTransition(current, new)
    return new


def is_terminal(status: OrderStatus) -> bool:
    return not TRANSITIONS[status]
