"""Take-profit and stop-loss triggers: fire on the mark, close the position at market."""

from __future__ import annotations

from hyperoru.trading.engine.enums import Liquidity, OrderStatus, RejectCode
from hyperoru.trading.engine.ledger import POSITION_CLOSED, Ledger
from hyperoru.trading.engine.matching import walk_book
from hyperoru.trading.engine.money import ZERO

SIBLING_FIRED = "the other trigger of the pair fired"


def fire_triggers(ledger: Ledger) -> None:
    """Fire armed triggers the mark has reached, oldest first, each once.

    A fired trigger sends a reduce-only market order for the whole position (book walk,
    5% cap, taker fee); whatever the book cannot absorb within the cap stays open as a
    position. Its sibling (the other half of the take-profit/stop-loss pair) is cancelled.
    """
    for trigger in list(ledger.triggers):
        if trigger not in ledger.triggers or not trigger.active:
            continue
        market = ledger.markets.get(trigger.symbol)
        if market is None or not trigger.is_crossed_by(market.mark_price):
            continue
        position = ledger.positions.get(trigger.symbol)
        if position is None or position.side is trigger.side:
            # Only reachable from a stored state that was edited by hand: nothing to close.
            ledger.remove_trigger(trigger, OrderStatus.CANCELLED, POSITION_CLOSED)
            continue
        for sibling in list(ledger.triggers):
            if sibling.parent_order_id == trigger.parent_order_id and sibling is not trigger:
                ledger.remove_trigger(sibling, OrderStatus.CANCELLED, SIBLING_FIRED)
        executions = walk_book(market, trigger.side, abs(position.size), ledger.config.slippage_cap)
        for execution in executions:
            ledger.fill(
                order_id=trigger.order_id,
                symbol=trigger.symbol,
                side=trigger.side,
                execution=execution,
                liquidity=Liquidity.TAKER,
                leverage=position.leverage,
            )
        filled = sum((e.quantity for e in executions), ZERO)
        reason = None if executions else RejectCode.NO_LIQUIDITY
        if trigger in ledger.triggers:
            ledger.remove_trigger(trigger, OrderStatus.TRIGGERED, reason, filled)
        ledger.retire_stale_triggers(trigger.symbol)
