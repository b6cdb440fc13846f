"""One net position per symbol: a fill opens, grows, reduces, closes or flips it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hyperoru.trading.engine.enums import Side
from hyperoru.trading.engine.money import ZERO, average_price, money
from hyperoru.trading.engine.state import Position


@dataclass(frozen=True, slots=True)
class Netted:
    position: Position | None
    realized_pnl: Decimal
    # True when the fill opened, grew or flipped the position (so it needed margin).
    added_exposure: bool


def net_fill(
    position: Position | None,
    *,
    symbol: str,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    leverage: int,
    mark_price: Decimal,
    now: datetime,
) -> Netted:
    """Apply one fill to the symbol's position.

    Growing keeps a size-weighted average entry and takes the order's leverage; reducing
    realises (exit - entry) * closed size and keeps entry and leverage; a flip closes the
    old position and opens the remainder at the fill price and the order's leverage.
    """
    signed = side.sign * quantity
    if position is None:
        opened = Position(symbol, signed, price, leverage, mark_price, now)
        return Netted(opened, ZERO, True)

    size = position.size
    if (size > 0) == (signed > 0):
        new_size = size + signed
        entry = average_price((abs(size) * position.entry_price + quantity * price) / abs(new_size))
        grown = Position(symbol, new_size, entry, leverage, mark_price, position.opened_at)
        return Netted(grown, ZERO, True)

    closed = min(quantity, abs(size))
    direction = 1 if size > 0 else -1
    realized = money(closed * (price - position.entry_price) * direction)
    left = quantity - closed
    if closed < abs(size):
        reduced = Position(
            symbol,
            size + signed,
            position.entry_price,
            position.leverage,
            mark_price,
            position.opened_at,
        )
        return Netted(reduced, realized, False)
    if left == 0:
        return Netted(None, realized, False)
    flipped = Position(symbol, side.sign * left, price, leverage, mark_price, now)
    return Netted(flipped, realized, True)
