"""Rules found untested by mutation testing (scripts/mutation.py), each with an answer
computed by hand: resting reduce-only limits that fill, ..."""

from __future__ import annotations

from hyperoru.trading.engine import (
    AccountState,
    Liquidity,
    OrderStatus,
    RejectCode,
    on_market,
    place_order,
)
from tests.trading.engine.kit import CONFIG, T0, D, account, at, market, order, quoted

# The bid has risen to 51490: a sell resting at 51000 is traded through.
RISEN = {"BTC": market(mark=51500, bids=[(51490, 1)], asks=[(51510, 1)])}


def _long(quantity: str) -> AccountState:
    return place_order(
        account(), order("buy", quantity, leverage=5), markets=quoted(50000), config=CONFIG, now=T0
    ).state


def test_a_resting_reduce_only_limit_fills_at_its_price_as_maker() -> None:
    take = order("sell", "0.1", order_id="tp", price="51000", reduce_only=True)
    state = place_order(_long("0.3"), take, markets=quoted(50000), config=CONFIG, now=T0).state
    result = on_market(state, RISEN, config=CONFIG, now=at(1))
    (fill,) = result.fills
    assert (fill.price, fill.quantity, fill.liquidity) == (D(51000), D("0.1"), Liquidity.MAKER)
    assert fill.realized_pnl == D("99.00000000")  # 0.1 * (51000 - 50010)
    assert result.state.positions[0].size == D("0.2")
    assert result.state.open_orders == ()
    assert [(e.order_id, e.status) for e in result.events if e.kind == "order_updated"] == [
        ("tp", OrderStatus.FILLED)
    ]


def test_a_resting_reduce_only_limit_larger_than_what_is_left_fills_that_and_stops() -> None:
    take = order("sell", "0.3", order_id="tp", price="51000", reduce_only=True)
    state = place_order(_long("0.3"), take, markets=quoted(50000), config=CONFIG, now=T0).state
    part = order("sell", "0.2", order_id="part")
    state = place_order(state, part, markets=quoted(50000), config=CONFIG, now=T0).state
    result = on_market(state, RISEN, config=CONFIG, now=at(1))
    (fill,) = result.fills
    assert (fill.price, fill.quantity) == (D(51000), D("0.1"))
    assert result.state.positions == () and result.state.open_orders == ()
    (update,) = [e for e in result.events if e.kind == "order_updated"]
    assert (update.order_id, update.status, update.filled_quantity, update.reason) == (
        "tp",
        OrderStatus.CANCELLED,
        D("0.1"),
        RejectCode.REDUCE_ONLY_REJECTED,
    )
