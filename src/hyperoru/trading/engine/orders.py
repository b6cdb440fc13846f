"""Placing and cancelling orders.

Checks run in this order, and the first failure is the answer: UNKNOWN_SYMBOL,
NO_LIQUIDITY (no market data for the symbol), LEVERAGE_TOO_HIGH, INVALID_SIZE,
INVALID_TICK, REDUCE_ONLY_REJECTED, MIN_NOTIONAL, POST_ONLY_WOULD_CROSS, then matching,
NO_LIQUIDITY (IOC or market order that filled nothing), INSUFFICIENT_MARGIN.
A rejected order changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from hyperoru.trading.engine.config import AssetSpec, EngineConfig
from hyperoru.trading.engine.enums import (
    Liquidity,
    OrderStatus,
    RejectCode,
    TimeInForce,
    TriggerKind,
)
from hyperoru.trading.engine.events import EngineResult, OrderResult, OrderUpdated
from hyperoru.trading.engine.ledger import Ledger
from hyperoru.trading.engine.market import MarketSnapshot
from hyperoru.trading.engine.matching import Execution, walk_book, would_cross
from hyperoru.trading.engine.money import ZERO, in_engine_context
from hyperoru.trading.engine.precision import is_valid_price, round_size
from hyperoru.trading.engine.state import AccountState, OrderRequest, RestingOrder, TriggerOrder


class _Rejected(Exception):
    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@in_engine_context
def place_order(
    state: AccountState,
    request: OrderRequest,
    *,
    markets: Mapping[str, MarketSnapshot],
    config: EngineConfig,
    now: datetime,
) -> OrderResult:
    """Execute ``request`` against ``markets[request.symbol]`` and return the outcome.

    ``markets`` should hold every symbol the account has a position in, so cross margin is
    measured at current marks (a missing one keeps the position's stored mark). Raises
    ``ValueError`` if ``request.order_id`` is already resting: ids are the caller's to keep
    unique.
    """
    if state.open_order(request.order_id) is not None:
        raise ValueError(f"order {request.order_id} is already open")
    try:
        return _place(state, request, markets, config, now)
    except _Rejected as rejected:
        update = OrderUpdated(
            order_id=request.order_id,
            symbol=request.symbol,
            status=OrderStatus.REJECTED,
            filled_quantity=ZERO,
            time=now,
            reason=rejected.code,
            client_order_id=request.client_order_id,
        )
        return OrderResult(
            state=state,
            events=(update,),
            order_id=request.order_id,
            status=OrderStatus.REJECTED,
            reject_code=rejected.code,
            message=rejected.message,
        )


def _place(
    state: AccountState,
    request: OrderRequest,
    markets: Mapping[str, MarketSnapshot],
    config: EngineConfig,
    now: datetime,
) -> OrderResult:
    asset = config.assets.get(request.symbol)
    if asset is None:
        raise _Rejected(RejectCode.UNKNOWN_SYMBOL, f"{request.symbol} is not tradable")
    market = markets.get(request.symbol)
    if market is None:
        raise _Rejected(RejectCode.NO_LIQUIDITY, f"no market data for {request.symbol}")
    quantity = _validated_quantity(state, request, asset, market)
    _check_post_only(request, market)

    position = state.position(request.symbol)
    executions: tuple[Execution, ...]
    if request.is_post_only:
        executions = ()
    else:
        executions = walk_book(
            market, request.side, quantity, config.slippage_cap, request.limit_price
        )
    filled = sum((e.quantity for e in executions), ZERO)
    rests = request.effective_tif is not TimeInForce.IOC and filled < quantity
    if not executions and not rests:
        raise _Rejected(RejectCode.NO_LIQUIDITY, "nothing to fill within the price limits")

    ledger = Ledger(state, config, markets, now)
    for execution in executions:
        ledger.fill(
            order_id=request.order_id,
            symbol=request.symbol,
            side=request.side,
            execution=execution,
            liquidity=Liquidity.TAKER,
            leverage=request.leverage,
            client_order_id=request.client_order_id,
            margin_mode=request.margin_mode,
        )
    if rests:
        assert request.price is not None  # only limit orders rest
        ledger.orders.append(
            RestingOrder(
                order_id=request.order_id,
                symbol=request.symbol,
                side=request.side,
                price=request.price,
                quantity=quantity,
                leverage=request.leverage,
                placed_at=now,
                filled_quantity=filled,
                reduce_only=request.reduce_only,
                time_in_force=request.time_in_force,
                client_order_id=request.client_order_id,
                margin_mode=request.margin_mode,
            )
        )

    only_reduces = request.reduce_only or (
        position is not None
        and position.side is not request.side
        and quantity <= abs(position.size)
    )
    # Isolated margin has already left cash, so cross equity must still cover the cross
    # positions' margin and the resting orders' reservations.
    if not only_reduces and ledger.cross_equity() < ledger.requirement():
        raise _Rejected(RejectCode.INSUFFICIENT_MARGIN, "equity does not cover the initial margin")

    status = _execution_status(filled, quantity, rests)
    reason = (
        "unfilled remainder cancelled"
        if status is OrderStatus.PARTIALLY_FILLED and not rests
        else None
    )
    ledger.report(request.order_id, request.symbol, status, filled, reason, request.client_order_id)
    _attach_triggers(ledger, request, armed=filled > 0)
    ledger.retire_stale_triggers(request.symbol)
    return OrderResult(
        state=ledger.state(),
        events=tuple(ledger.events),
        order_id=request.order_id,
        status=status,
        filled_quantity=filled,
    )


def _validated_quantity(
    state: AccountState, request: OrderRequest, asset: AssetSpec, market: MarketSnapshot
) -> Decimal:
    if not request.reduce_only:
        allowed = min(state.max_leverage, asset.max_leverage)
        if request.leverage > allowed:
            raise _Rejected(
                RejectCode.LEVERAGE_TOO_HIGH, f"leverage {request.leverage} is above {allowed}"
            )
    quantity = round_size(request.quantity, asset.sz_decimals)
    if quantity == 0:
        raise _Rejected(
            RejectCode.INVALID_SIZE, f"size rounds to zero at {asset.sz_decimals} decimals"
        )
    prices = (request.limit_price, request.take_profit_price, request.stop_loss_price)
    for price in prices:
        if price is not None and not is_valid_price(price, asset.sz_decimals):
            raise _Rejected(
                RejectCode.INVALID_TICK,
                f"price {price} has more than 5 significant figures or "
                f"{6 - asset.sz_decimals} decimals",
            )
    if request.reduce_only:
        position = state.position(request.symbol)
        if position is None or position.side is request.side:
            raise _Rejected(RejectCode.REDUCE_ONLY_REJECTED, "reduce-only order would not reduce")
        # Never more than the position: the part beyond it would open the other way.
        return min(quantity, abs(position.size))
    reference = request.limit_price if request.limit_price is not None else market.mark_price
    if quantity * reference < asset.min_notional:
        raise _Rejected(RejectCode.MIN_NOTIONAL, f"order value is below ${asset.min_notional}")
    return quantity


def _check_post_only(request: OrderRequest, market: MarketSnapshot) -> None:
    if not request.is_post_only:
        return
    assert request.price is not None
    if would_cross(market, request.side, request.price):
        raise _Rejected(RejectCode.POST_ONLY_WOULD_CROSS, "post-only order would take liquidity")


def _execution_status(filled: Decimal, quantity: Decimal, rests: bool) -> OrderStatus:
    if filled == quantity:
        return OrderStatus.FILLED
    if filled == 0 and rests:
        return OrderStatus.OPEN
    return OrderStatus.PARTIALLY_FILLED


def _attach_triggers(ledger: Ledger, request: OrderRequest, *, armed: bool) -> None:
    wanted = (
        (TriggerKind.TAKE_PROFIT, "tp", request.take_profit_price),
        (TriggerKind.STOP_LOSS, "sl", request.stop_loss_price),
    )
    for kind, suffix, price in wanted:
        if price is None:
            continue
        ledger.add_trigger(
            TriggerOrder(
                order_id=f"{request.order_id}:{suffix}",
                parent_order_id=request.order_id,
                symbol=request.symbol,
                kind=kind,
                side=request.side.opposite,
                trigger_price=price,
                created_at=ledger.now,
                active=armed,
            )
        )


@in_engine_context
def cancel_order(state: AccountState, order_id: str, *, now: datetime) -> EngineResult | None:
    """Cancel a resting order (with its still-waiting triggers) or one trigger.

    ``None`` when nothing open has that id (the caller's ``ORDER_NOT_PENDING``).
    """
    ledger = Ledger(state, _NO_CONFIG, {}, now)
    order = state.open_order(order_id)
    if order is not None:
        ledger.remove_order(order, OrderStatus.CANCELLED, order.filled_quantity, "cancelled")
        for trigger in state.triggers:
            if trigger.parent_order_id == order_id and not trigger.active:
                ledger.remove_trigger(trigger, OrderStatus.CANCELLED, "parent order cancelled")
        return EngineResult(ledger.state(), tuple(ledger.events))
    for trigger in state.triggers:
        if trigger.order_id == order_id:
            ledger.remove_trigger(trigger, OrderStatus.CANCELLED, "cancelled")
            return EngineResult(ledger.state(), tuple(ledger.events))
    return None


# Cancelling moves no money, so it needs no assets or fees.
_NO_CONFIG = EngineConfig(assets={})
