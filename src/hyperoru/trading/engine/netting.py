"""One net position per symbol: a fill opens, grows, reduces, closes or flips it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from hyperoru.trading.engine.enums import MarginMode, Side
from hyperoru.trading.engine.money import ZERO, average_price, money
from hyperoru.trading.engine.state import Position


@dataclass(frozen=True, slots=True)
class Netted:
    position: Position | None
    realized_pnl: Decimal
    # Cash moved into isolated margin by the fill (negative: margin returned to cash).
    margin_moved: Decimal = ZERO


def _isolated_margin(quantity: Decimal, price: Decimal, leverage: int) -> Decimal:
    """The margin an isolated fill moves out of cash: its own notional / leverage."""
    return money(quantity * price / leverage)


def _opened(
    symbol: str,
    signed: Decimal,
    price: Decimal,
    leverage: int,
    mark_price: Decimal,
    now: datetime,
    margin_mode: MarginMode,
) -> Position:
    margin = ZERO
    if margin_mode is MarginMode.ISOLATED:
        margin = _isolated_margin(abs(signed), price, leverage)
    return Position(symbol, signed, price, leverage, mark_price, now, margin_mode, margin)


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
    margin_mode: MarginMode = MarginMode.CROSS,
) -> Netted:
    """Apply one fill to the symbol's position.

    Growing keeps a size-weighted average entry and takes the order's leverage; reducing
    realises (exit - entry) * closed size and keeps entry and leverage; a flip closes the
    old position and opens the remainder at the fill price and the order's leverage.

    ``margin_mode`` is the mode of a position this fill opens (or flips into). An
    isolated position gets fill notional / leverage as margin when opened or grown, and
    gives back the closed share of its margin when reduced (all of it when closed).
    """
    signed = side.sign * quantity
    if position is None:
        opened = _opened(symbol, signed, price, leverage, mark_price, now, margin_mode)
        return Netted(opened, ZERO, opened.isolated_margin)

    size = position.size
    if (size > 0) == (signed > 0):
        new_size = size + signed
        entry = average_price((abs(size) * position.entry_price + quantity * price) / abs(new_size))
        added = _isolated_margin(quantity, price, leverage) if position.is_isolated else ZERO
        grown = replace(
            position,
            size=new_size,
            entry_price=entry,
            leverage=leverage,
            mark_price=mark_price,
            isolated_margin=position.isolated_margin + added,
        )
        return Netted(grown, ZERO, added)

    closed = min(quantity, abs(size))
    direction = 1 if size > 0 else -1
    realized = money(closed * (price - position.entry_price) * direction)
    left = quantity - closed
    if closed < abs(size):
        released = money(position.isolated_margin * closed / abs(size))
        reduced = replace(
            position,
            size=size + signed,
            mark_price=mark_price,
            isolated_margin=position.isolated_margin - released,
        )
        return Netted(reduced, realized, -released)
    if left == 0:
        return Netted(None, realized, -position.isolated_margin)
    flipped = _opened(symbol, side.sign * left, price, leverage, mark_price, now, margin_mode)
    return Netted(flipped, realized, flipped.isolated_margin - position.isolated_margin)
