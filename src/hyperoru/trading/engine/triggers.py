"""Take-profit and stop-loss triggers: fire on the mark, close the position at market."""

from __future__ import annotations

from decimal import Decimal

from hyperoru.trading.engine.config import TriggerFill
from hyperoru.trading.engine.enums import Liquidity, OrderStatus, RejectCode
from hyperoru.trading.engine.ledger import POSITION_CLOSED, Ledger
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.matching import Execution, walk_book, walk_book_to
from hyperoru.trading.engine.money import ZERO
from hyperoru.trading.engine.state import TriggerOrder

SIBLING_FIRED = "the other trigger of the pair fired"


def fire_triggers(ledger: Ledger) -> None:
    """Fire armed triggers the mark has reached, oldest first, each once.

    A fired trigger sends a reduce-only market order for the whole position (book walk,
    taker fee) bounded by the venue's rule (``TriggerFill``); whatever the book cannot
    absorb within that bound stays open as a position. Its sibling (the other half of the
    take-profit/stop-loss pair) is cancelled.
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
        executions = _trigger_executions(
            market,
            trigger,
            abs(position.size),
            ledger.config.trigger_fill,
            ledger.config.slippage_cap,
        )
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


def trigger_worst_price(trigger: TriggerOrder, cap: Decimal) -> Decimal:
    """The limit of a market trigger: ``cap`` beyond the trigger price, against the
    closing side (a sell may fill down to trigger × (1 - cap))."""
    return trigger.trigger_price * (1 + trigger.side.sign * cap)


def _trigger_executions(
    market: MarketSnapshot,
    trigger: TriggerOrder,
    quantity: Decimal,
    rule: TriggerFill,
    slippage_cap: Decimal,
) -> tuple[Execution, ...]:
    if rule.cap is None:
        return walk_book(market, trigger.side, quantity, slippage_cap)
    return walk_book_to(market, trigger.side, quantity, trigger_worst_price(trigger, rule.cap))
