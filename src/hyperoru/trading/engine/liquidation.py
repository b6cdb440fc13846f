"""Liquidation: below maintenance margin, the cross account closes every cross position
at once; an isolated position below its own maintenance margin is closed alone."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hyperoru.trading.engine.enums import Liquidity, MarginMode, OrderStatus
from hyperoru.trading.engine.events import Liquidated
from hyperoru.trading.engine.ledger import Ledger
from hyperoru.trading.engine.margin import (
    cross_only,
    is_liquidatable,
    isolated_is_liquidatable,
    maintenance_margin,
    total_maintenance,
)
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.matching import walk_book_to_completion
from hyperoru.trading.engine.state import RestingOrder

LIQUIDATION = "liquidation"


def liquidate_if_needed(ledger: Ledger) -> None:
    """Liquidate each isolated position (symbols sorted), then the cross account, that is
    strictly below its maintenance margin (isolated first: a gap loss beyond an isolated
    margin comes out of cash, which the cross check must then see).

    Cross: when cash + cross PnL < cross maintenance margin, every cross resting order is
    cancelled, then every trigger of a cross position or of a cancelled order, and every
    cross position is closed. Isolated: when isolated margin + PnL < the position's
    maintenance margin, that symbol's resting orders and triggers are cancelled and the
    position is closed; nothing else is touched. Each close walks the book within the
    5% cap and fills any remainder at the cap price, taker fee charged, fills flagged
    ``is_liquidation``. A loss beyond the margin at stake comes out of cash (cash may go
    negative): there is no insurance fund or backstop.
    """
    if not ledger.positions:
        return
    for symbol in sorted(ledger.positions):
        position = ledger.positions[symbol]
        asset = ledger.config.assets[symbol]
        if isolated_is_liquidatable(position, asset):
            _liquidate(
                ledger,
                (symbol,),
                position.isolated_equity,
                maintenance_margin(position, asset),
                cancels_order=_of_symbol(symbol),
            )
    _liquidate_cross(ledger)


def _of_symbol(symbol: str) -> Callable[[RestingOrder], bool]:
    return lambda order: order.symbol == symbol


def _is_cross(order: RestingOrder) -> bool:
    return order.margin_mode is not MarginMode.ISOLATED


def _liquidate_cross(ledger: Ledger) -> None:
    cross = cross_only(ledger.positions.values())
    if not cross:
        return
    equity = ledger.cross_equity()
    maintenance = total_maintenance(cross, ledger.config.assets)
    if not is_liquidatable(equity, maintenance):
        return
    symbols = tuple(sorted(p.symbol for p in cross))
    _liquidate(
        ledger,
        symbols,
        equity,
        maintenance,
        cancels_order=_is_cross,
    )


def _liquidate(
    ledger: Ledger,
    symbols: tuple[str, ...],
    equity: Decimal,
    maintenance: Decimal,
    *,
    cancels_order: Callable[[RestingOrder], bool],
) -> None:
    ledger.events.append(Liquidated(ledger.now, equity, maintenance, symbols))
    cancelled: set[str] = set()
    for order in list(ledger.orders):
        if cancels_order(order):
            cancelled.add(order.order_id)
            ledger.remove_order(order, OrderStatus.CANCELLED, order.filled_quantity, LIQUIDATION)
    for trigger in list(ledger.triggers):
        if trigger.symbol in symbols or trigger.parent_order_id in cancelled:
            ledger.remove_trigger(trigger, OrderStatus.CANCELLED, LIQUIDATION)
    order_id = f"{LIQUIDATION}:{ledger.last_fill_id + 1}"
    for symbol in symbols:
        position = ledger.positions[symbol]
        market = ledger.markets.get(symbol) or MarketSnapshot(symbol, position.mark_price)
        closing = position.side.opposite
        for execution in walk_book_to_completion(
            market, closing, abs(position.size), ledger.config.slippage_cap
        ):
            ledger.fill(
                order_id=order_id,
                symbol=symbol,
                side=closing,
                execution=execution,
                liquidity=Liquidity.TAKER,
                leverage=position.leverage,
                is_liquidation=True,
            )
