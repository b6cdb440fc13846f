"""Rules found untested by mutation testing (scripts/mutation.py), each with an answer
computed by hand: resting reduce-only limits that fill, an exact close while the rest of
the account is short of margin, the tick rejection naming the asset's own decimals,
cancelling one order or one trigger, a stored trigger without its position."""

from __future__ import annotations

from hyperoru.trading.engine import (
    AccountState,
    Liquidity,
    MarketSnapshot,
    OrderStatus,
    RejectCode,
    Side,
    TriggerKind,
    TriggerOrder,
    cancel_order,
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


def _deep_eth(mark: int) -> MarketSnapshot:
    return market("ETH", mark, bids=[(mark - 10, 100)], asks=[(mark + 10, 100)])


def test_closing_a_whole_position_is_allowed_while_the_rest_is_short_of_margin() -> None:
    # 0.1 BTC and 25 ETH at 10x; ETH falls from 3010 to 2800: equity about 4,700 is below
    # ETH's own initial margin (25 * 2800 / 10 = 7,000), above maintenance (about 1,460).
    both = {**quoted(50000), "ETH": _deep_eth(3000)}
    state = account()
    for request in (
        order("buy", "0.1", order_id="btc", leverage=10),
        order("buy", "25", order_id="eth", symbol="ETH", leverage=10),
    ):
        state = place_order(state, request, markets=both, config=CONFIG, now=T0).state
    fallen = {**quoted(50000), "ETH": _deep_eth(2800)}
    # Exactly the position: it only reduces, so no margin check.
    close = order("sell", "0.1", order_id="close")
    result = place_order(state, close, markets=fallen, config=CONFIG, now=at(1))
    assert result.status is OrderStatus.FILLED
    assert [p.symbol for p in result.state.positions] == ["ETH"]
    # One lot more would open a short: that needs margin the account does not have.
    flip = order("sell", "0.10001", order_id="flip")
    refused = place_order(state, flip, markets=fallen, config=CONFIG, now=at(1))
    assert refused.reject_code is RejectCode.INSUFFICIENT_MARGIN


def test_a_price_off_the_tick_is_refused_with_the_assets_own_limits() -> None:
    # BTC has 5 size decimals, so prices may carry 6 - 5 = 1 decimal; ETH 4, so 2.
    btc = order("buy", "0.01", price="50000.5")
    refused = place_order(account(), btc, markets=quoted(50000), config=CONFIG, now=T0)
    assert refused.reject_code is RejectCode.INVALID_TICK
    assert refused.message == ("price 50000.5 has more than 5 significant figures or 1 decimals")
    eth = order("buy", "1", price="3000.123", symbol="ETH")
    refused = place_order(account(), eth, markets=quoted(3000, "ETH"), config=CONFIG, now=T0)
    assert refused.message == "price 3000.123 has more than 5 significant figures or 2 decimals"


def test_cancelling_one_resting_order_keeps_the_other_orders_waiting_triggers() -> None:
    state = account(100000)
    for order_id in ("a", "b"):
        request = order("buy", "0.1", order_id=order_id, price="49000", stop_loss="45000")
        state = place_order(state, request, markets=quoted(50000), config=CONFIG, now=T0).state
    result = cancel_order(state, "a", now=at(1))
    assert result is not None
    assert [o.order_id for o in result.state.open_orders] == ["b"]
    assert [t.order_id for t in result.state.triggers] == ["b:sl"]


def test_cancelling_a_trigger_by_id_cancels_that_one_only() -> None:
    request = order("buy", "0.1", price="49000", take_profit="55000", stop_loss="45000")
    state = place_order(account(), request, markets=quoted(50000), config=CONFIG, now=T0).state
    result = cancel_order(state, "o1:sl", now=at(1))
    assert result is not None
    assert [t.order_id for t in result.state.triggers] == ["o1:tp"]
    assert [(e.order_id, e.status) for e in result.events] == [("o1:sl", OrderStatus.CANCELLED)]


def test_a_stored_trigger_without_its_position_is_cancelled_when_reached() -> None:
    # Only a hand-edited stored state has one: nothing to close, so no fill.
    trigger = TriggerOrder("t", "p", "BTC", TriggerKind.STOP_LOSS, Side.SELL, D(49000), T0)
    state = AccountState(cash=D(10000), triggers=(trigger,), funding_settled_at=T0)
    result = on_market(state, quoted(48000), config=CONFIG, now=at(1))
    assert result.fills == () and result.state.triggers == ()
    (update,) = result.events
    assert (update.order_id, update.status, update.reason) == (
        "t",
        OrderStatus.CANCELLED,
        "position closed or reversed",
    )
