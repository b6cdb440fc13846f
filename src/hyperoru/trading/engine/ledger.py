"""The working copy of one account during one engine call.

Each public engine function builds a ``Ledger`` from the immutable input state, applies
its rules to it in a fixed order and turns it back into a new ``AccountState``. It is
local to the call, so the engine stays pure from the outside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from hyperoru.trading.engine.config import EngineConfig
from hyperoru.trading.engine.enums import Liquidity, MarginMode, OrderStatus, Side
from hyperoru.trading.engine.events import (
    Event,
    Fill,
    FundingPaid,
    OrderUpdated,
    PositionChanged,
    TriggerPlaced,
)
from hyperoru.trading.engine.margin import cross_equity, margin_requirement
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.matching import Execution
from hyperoru.trading.engine.money import ZERO
from hyperoru.trading.engine.netting import net_fill
from hyperoru.trading.engine.state import AccountState, Position, RestingOrder, TriggerOrder

POSITION_CLOSED = "position closed or reversed"


class Ledger:
    def __init__(
        self,
        state: AccountState,
        config: EngineConfig,
        markets: Mapping[str, MarketSnapshot],
        now: datetime,
    ) -> None:
        self.config = config
        self.markets = markets
        self.now = now
        self.max_leverage = state.max_leverage
        self.cash = state.cash
        self.positions: dict[str, Position] = {p.symbol: self._marked(p) for p in state.positions}
        self.orders: list[RestingOrder] = list(state.open_orders)
        self.triggers: list[TriggerOrder] = list(state.triggers)
        self.last_fill_id = state.last_fill_id
        self.funding_settled_at = state.funding_settled_at
        self.events: list[Event] = []

    def _marked(self, position: Position) -> Position:
        market = self.markets.get(position.symbol)
        if market is None or market.mark_price == position.mark_price:
            return position
        return replace(position, mark_price=market.mark_price)

    def mark_of(self, symbol: str, fallback: Decimal) -> Decimal:
        market = self.markets.get(symbol)
        if market is not None:
            return market.mark_price
        position = self.positions.get(symbol)
        return position.mark_price if position is not None else fallback

    # -- money -------------------------------------------------------------------------

    def cross_equity(self) -> Decimal:
        return cross_equity(self.cash, self.positions.values())

    def requirement(self) -> Decimal:
        return margin_requirement(self.positions.values(), self.orders)

    def fill(
        self,
        *,
        order_id: str,
        symbol: str,
        side: Side,
        execution: Execution,
        liquidity: Liquidity,
        leverage: int,
        client_order_id: str | None = None,
        is_liquidation: bool = False,
        margin_mode: MarginMode = MarginMode.CROSS,
    ) -> Fill:
        """Apply one execution; ``margin_mode`` is the mode of a position it opens."""
        previous = self.positions.get(symbol)
        netted = net_fill(
            previous,
            symbol=symbol,
            side=side,
            quantity=execution.quantity,
            price=execution.price,
            leverage=leverage,
            mark_price=self.mark_of(symbol, execution.price),
            now=self.now,
            margin_mode=margin_mode,
        )
        fee = self.config.fees.fee(execution.price * execution.quantity, liquidity)
        # Fees and realised PnL settle in cash; isolated margin moves between the two.
        self.cash += netted.realized_pnl - fee - netted.margin_moved
        self.last_fill_id += 1
        fill = Fill(
            fill_id=self.last_fill_id,
            order_id=order_id,
            symbol=symbol,
            side=side,
            price=execution.price,
            quantity=execution.quantity,
            fee=fee,
            liquidity=liquidity,
            realized_pnl=netted.realized_pnl,
            time=self.now,
            is_liquidation=is_liquidation,
            client_order_id=client_order_id,
        )
        after = netted.position
        if after is None:
            del self.positions[symbol]
        else:
            self.positions[symbol] = after
        self.events.append(fill)
        self.events.append(
            PositionChanged(
                symbol=symbol,
                previous_size=previous.size if previous is not None else ZERO,
                size=after.size if after is not None else ZERO,
                entry_price=after.entry_price if after is not None else ZERO,
                leverage=after.leverage if after is not None else leverage,
                time=self.now,
            )
        )
        return fill

    def pay_funding(
        self, position: Position, rate: Decimal, payment: Decimal, at: datetime
    ) -> None:
        """Funding of an isolated position settles in its isolated margin (it is paid out
        of, or adds to, what that position stands on); a cross position's in cash."""
        if position.is_isolated:
            self.positions[position.symbol] = replace(
                position, isolated_margin=position.isolated_margin - payment
            )
        else:
            self.cash -= payment
        self.events.append(
            FundingPaid(
                symbol=position.symbol,
                time=at,
                position_size=position.size,
                mark_price=position.mark_price,
                rate=rate,
                payment=payment,
            )
        )

    # -- orders and triggers ---------------------------------------------------------------

    def report(
        self,
        order_id: str,
        symbol: str,
        status: OrderStatus,
        filled: Decimal,
        reason: str | None = None,
        client_order_id: str | None = None,
    ) -> None:
        self.events.append(
            OrderUpdated(
                order_id=order_id,
                symbol=symbol,
                status=status,
                filled_quantity=filled,
                time=self.now,
                reason=reason,
                client_order_id=client_order_id,
            )
        )

    def remove_order(
        self, order: RestingOrder, status: OrderStatus, filled: Decimal, reason: str | None = None
    ) -> None:
        self.orders.remove(order)
        self.report(order.order_id, order.symbol, status, filled, reason, order.client_order_id)

    def add_trigger(self, trigger: TriggerOrder) -> None:
        self.triggers.append(trigger)
        self.events.append(TriggerPlaced(trigger=trigger, time=self.now))

    def remove_trigger(
        self,
        trigger: TriggerOrder,
        status: OrderStatus,
        reason: str | None = None,
        filled: Decimal = ZERO,
    ) -> None:
        self.triggers.remove(trigger)
        self.report(trigger.order_id, trigger.symbol, status, filled, reason)

    def arm_triggers_of(self, parent_order_id: str) -> None:
        for index, trigger in enumerate(self.triggers):
            if trigger.parent_order_id == parent_order_id and not trigger.active:
                self.triggers[index] = replace(trigger, active=True)
                self.report(trigger.order_id, trigger.symbol, OrderStatus.OPEN, ZERO)

    def retire_stale_triggers(self, symbol: str) -> None:
        """Cancel armed triggers whose position is gone or now points the other way."""
        position = self.positions.get(symbol)
        for trigger in list(self.triggers):
            if trigger.symbol != symbol or not trigger.active:
                continue
            if position is None or position.side is trigger.side:
                self.remove_trigger(trigger, OrderStatus.CANCELLED, POSITION_CLOSED)

    def state(self) -> AccountState:
        return AccountState(
            cash=self.cash,
            max_leverage=self.max_leverage,
            positions=tuple(self.positions[s] for s in sorted(self.positions)),
            open_orders=tuple(self.orders),
            triggers=tuple(self.triggers),
            last_fill_id=self.last_fill_id,
            funding_settled_at=self.funding_settled_at,
        )
