"""Netting (grow, reduce, close, flip), realised PnL, leverage, margin and account metrics."""

from __future__ import annotations

from hyperoru.trading.engine import (
    AccountState,
    OrderRequest,
    OrderStatus,
    PositionChanged,
    measure,
    place_order,
)
from tests.trading.engine.kit import CONFIG, T0, D, account, order, quoted


def _trade(state: AccountState, request: OrderRequest, mark: int) -> AccountState:
    result = place_order(state, request, markets=quoted(mark), config=CONFIG, now=T0)
    assert result.status is OrderStatus.FILLED, result.reject_code
    return result.state


def test_short_then_buy_back_lower_realises_a_profit() -> None:
    state = _trade(account(), order("sell", "0.1", leverage=2), 50000)  # sold at 49990
    result = place_order(
        state, order("buy", "0.1", order_id="o2"), markets=quoted(48000), config=CONFIG, now=T0
    )
    (fill,) = result.fills
    assert fill.price == 48010
    assert fill.realized_pnl == D("198")  # 0.1 * (49990 - 48010)
    # 10000 - fee 2.24955 (4999 * 0.045%) + 198 - fee 2.16045 (4801 * 0.045%)
    assert result.state.cash == D("10193.59")
    assert result.state.positions == ()
    change = next(e for e in result.events if isinstance(e, PositionChanged))
    assert (change.previous_size, change.size, change.entry_price) == (D("-0.1"), 0, 0)


def test_flip_realises_the_old_side_and_opens_the_rest_at_the_fill_price() -> None:
    state = _trade(account(), order("buy", "0.1", leverage=3), 50000)  # long 0.1 @ 50010
    state = _trade(state, order("sell", "0.3", order_id="o2", leverage=4), 51000)  # @ 50990
    (position,) = state.positions
    assert (position.size, position.entry_price, position.leverage) == (D("-0.2"), 50990, 4)
    assert position.opened_at == T0
    # realised 0.1 * (50990 - 50010) = 98; fees 2.25045 + 0.3 * 50990 * 0.045% = 6.88365
    assert state.cash == D(10000) + 98 - D("2.25045") - D("6.88365")


def test_growing_takes_the_new_leverage_and_reducing_keeps_it() -> None:
    state = _trade(account(), order("buy", "0.1", leverage=2), 50000)
    state = _trade(state, order("buy", "0.1", order_id="o2", leverage=5), 50000)
    assert state.positions[0].leverage == 5
    state = _trade(state, order("sell", "0.1", order_id="o3", leverage=1), 50000)
    assert state.positions[0].leverage == 5


def test_measure_reports_margin_maintenance_and_equity() -> None:
    state = _trade(account(), order("buy", "0.2", leverage=5), 50000)  # 0.2 @ 50010
    resting = order("buy", "0.1", order_id="bid", price="49000", leverage=5)
    state = place_order(state, resting, markets=quoted(51000), config=CONFIG, now=T0).state
    metrics = measure(state, CONFIG)
    assert metrics.cash == D("9995.4991")
    assert metrics.unrealized_pnl == D("198")  # 0.2 * (51000 - 50010)
    assert metrics.equity == D("10193.4991")
    assert metrics.margin_used == D(2040)  # 0.2 * 51000 / 5
    assert metrics.order_margin == D(980)  # 0.1 * 49000 / 5
    assert metrics.maintenance_margin == D("127.5")  # 0.2 * 51000 / (2 * 40)
    assert metrics.available == D("10193.4991") - 2040 - 980
    assert metrics.positions_value == D(10200)
