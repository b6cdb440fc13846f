"""Take-profit and stop-loss triggers attached to an order's position."""

from __future__ import annotations

from hyperoru.trading.engine import (
    AccountState,
    OrderStatus,
    TriggerPlaced,
    on_market,
    place_order,
)
from tests.trading.engine.kit import CONFIG, T0, D, account, at, market, order, quoted


def _long_with(take_profit: str, stop_loss: str) -> AccountState:
    request = order("buy", "0.1", leverage=5, take_profit=take_profit, stop_loss=stop_loss)
    result = place_order(account(), request, markets=quoted(50000), config=CONFIG, now=T0)
    assert [type(e) for e in result.events][-2:] == [TriggerPlaced, TriggerPlaced]
    return result.state


def _statuses(result) -> dict[str, OrderStatus]:
    return {e.order_id: e.status for e in result.events if hasattr(e, "status")}


def test_nothing_fires_between_the_two_prices() -> None:
    state = _long_with("55000", "45000")
    for mark in (45001, 54999):
        result = on_market(state, quoted(mark), config=CONFIG, now=at(1))
        assert result.fills == () and result.state.triggers == state.triggers


def test_take_profit_fires_when_the_mark_reaches_it() -> None:
    result = on_market(_long_with("55000", "45000"), quoted(55000), config=CONFIG, now=at(1))
    (fill,) = result.fills
    assert (fill.order_id, fill.price, fill.quantity) == ("o1:tp", 54990, D("0.1"))
    assert fill.realized_pnl == D(498)  # 0.1 * (54990 - 50010)
    assert _statuses(result) == {"o1:sl": OrderStatus.CANCELLED, "o1:tp": OrderStatus.TRIGGERED}
    assert result.state.positions == () and result.state.triggers == ()


def test_stop_loss_fires_when_the_mark_reaches_it() -> None:
    result = on_market(_long_with("55000", "45000"), quoted(45000), config=CONFIG, now=at(1))
    (fill,) = result.fills
    assert (fill.order_id, fill.price) == ("o1:sl", 44990)
    assert fill.realized_pnl == D(-502)


def test_triggers_of_a_resting_order_wait_for_its_fill() -> None:
    request = order("buy", "0.1", price="49000", stop_loss="48000")
    state = place_order(account(), request, markets=quoted(50000), config=CONFIG, now=T0).state
    (waiting,) = state.triggers
    assert waiting.status is OrderStatus.WAITING
    # The mark passes the stop before the order fills: nothing fires without a position.
    quiet = on_market(
        state,
        {"BTC": market(mark=47000, bids=[(49100, 1)], asks=[(49200, 1)])},
        config=CONFIG,
        now=at(1),
    )
    assert quiet.fills == ()
    filled = on_market(
        state,
        {"BTC": market(mark=48990, bids=[(48980, 1)], asks=[(49000, 1)])},
        config=CONFIG,
        now=at(2),
    )
    assert [f.order_id for f in filled.fills] == ["o1"]
    assert _statuses(filled)["o1:sl"] is OrderStatus.OPEN
    stopped = on_market(filled.state, quoted(48000), config=CONFIG, now=at(3))
    assert [f.order_id for f in stopped.fills] == ["o1:sl"]


def test_closing_the_position_by_hand_cancels_its_triggers() -> None:
    state = _long_with("55000", "45000")
    close = order("sell", "0.1", order_id="close")
    result = place_order(state, close, markets=quoted(50000), config=CONFIG, now=T0)
    assert result.state.triggers == ()
    assert _statuses(result) == {
        "close": OrderStatus.FILLED,
        "o1:tp": OrderStatus.CANCELLED,
        "o1:sl": OrderStatus.CANCELLED,
    }


def test_a_stop_without_liquidity_fires_once_and_leaves_the_position() -> None:
    state = _long_with("55000", "45000")
    empty = {"BTC": market(mark=44000, asks=[(44010, 1)])}
    result = on_market(state, empty, config=CONFIG, now=at(1))
    assert result.fills == ()
    assert _statuses(result)["o1:sl"] is OrderStatus.TRIGGERED
    assert result.state.triggers == ()
    assert result.state.positions[0].size == D("0.1")
