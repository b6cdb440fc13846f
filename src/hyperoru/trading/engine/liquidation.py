"""Liquidation: below maintenance margin, every position is closed at once."""

from __future__ import annotations

from hyperoru.trading.engine.enums import Liquidity, OrderStatus
from hyperoru.trading.engine.events import Liquidated
from hyperoru.trading.engine.ledger import Ledger
from hyperoru.trading.engine.margin import is_liquidatable
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.matching import walk_book_to_completion

LIQUIDATION = "liquidation"


def liquidate_if_needed(ledger: Ledger) -> None:
    """Close every position (symbols sorted) when equity < total maintenance margin.

    Open orders and triggers are cancelled first. Each position is closed in full: the
    book is walked within the 5% cap and any remainder fills at the cap price, taker fee
    charged, fills flagged ``is_liquidation``. A loss beyond the account's cash leaves
    cash negative: there is no insurance fund or backstop.
    """
    if not ledger.positions:
        return
    equity, maintenance = ledger.equity(), ledger.maintenance()
    if not is_liquidatable(equity, maintenance):
        return
    symbols = tuple(sorted(ledger.positions))
    ledger.events.append(Liquidated(ledger.now, equity, maintenance, symbols))
    for order in list(ledger.orders):
        ledger.remove_order(order, OrderStatus.CANCELLED, order.filled_quantity, LIQUIDATION)
    for trigger in list(ledger.triggers):
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
