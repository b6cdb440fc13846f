"""Isolated margin: a position with its own margin, its own liquidation price and its own
liquidation. Every number is worked out by hand in the comments.

BTC (40x max) has maintenance 1/80 of notional, ETH (25x max) 1/50; Hyperliquid's base
taker fee is 0.045%, maker 0.015%. ``quoted(m)`` fills buys at m + 10 and sells at m - 10.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hyperoru.trading.engine import (
    AccountState,
    Liquidated,
    MarginMode,
    OrderRequest,
    OrderStatus,
    Position,
    RejectCode,
    liquidation_price,
    measure,
    on_market,
    place_order,
)
from tests.trading.engine.kit import CONFIG, T0, D, account, at, market, order, quoted

ISOLATED = MarginMode.ISOLATED


def _isolated(side: str, quantity: str, **kwargs: Any) -> OrderRequest:
    return replace(order(side, quantity, **kwargs), margin_mode=ISOLATED)


def _isolated_long(cash: int = 10000) -> AccountState:
    """0.1 BTC long at 5x, isolated, bought at 50010."""
    result = place_order(
        account(cash),
        _isolated("buy", "0.1", leverage=5),
        markets=quoted(50000),
        config=CONFIG,
        now=T0,
    )
    assert result.status is OrderStatus.FILLED
    return result.state


def test_opening_moves_notional_over_leverage_out_of_cash() -> None:
    state = _isolated_long()
    (position,) = state.positions
    assert position.margin_mode is ISOLATED
    # Margin 0.1 * 50010 / 5 = 1000.2; fee 5001 * 0.00045 = 2.25045.
    assert position.isolated_margin == D("1000.2")
    assert state.cash == D("8997.54955")  # 10000 - 1000.2 - 2.25045


def test_the_account_figures_count_isolated_margin_once() -> None:
    metrics = measure(_isolated_long(), CONFIG)
    # At the mark 50000: uPnL 0.1 * (50000 - 50010) = -1; isolated equity 999.2.
    assert metrics.unrealized_pnl == D(-1)
    assert metrics.cash == D("9997.74955")  # the realised balance: 10000 - 2.25045
    assert metrics.equity == D("9996.74955")  # 8997.54955 + 1000.2 - 1
    assert metrics.margin_used == D("999.2")  # the isolated equity, none of it available
    assert metrics.available == D("8997.54955")  # cash: nothing else backs cross trades
    assert metrics.maintenance_margin == D("62.5")  # 5000 / 80
    assert metrics.available + metrics.margin_used + metrics.order_margin == metrics.equity


def test_the_liquidation_price_comes_from_the_isolated_margin_alone() -> None:
    # 1000.2 + 0.1 * (p - 50010) = 0.1 * p / 80  =>  p = 4000.8 / 0.09875.
    state = _isolated_long()
    assert liquidation_price(state, "BTC", CONFIG) == D("40514.430379746835")
    # The cash behind it does not move it (a cross position's would move).
    richer = replace(state, cash=state.cash + 100000)
    assert liquidation_price(richer, "BTC", CONFIG) == D("40514.430379746835")


def _cross_eth_and_isolated_btc() -> AccountState:
    """1 ETH cross long at 3010 (fee 1.3545), then the isolated BTC long of above."""
    eth = place_order(
        account(),
        order("buy", "1", symbol="ETH", leverage=5),
        markets=quoted(3000, "ETH"),
        config=CONFIG,
        now=T0,
    )
    both = place_order(
        eth.state,
        _isolated("buy", "0.1", leverage=5, order_id="o2"),
        markets={**quoted(3000, "ETH"), **quoted(50000)},
        config=CONFIG,
        now=T0,
    )
    assert both.state.cash == D("8996.19505")  # 10000 - 1.3545 - 1000.2 - 2.25045
    return both.state


def test_an_isolated_position_is_liquidated_alone() -> None:
    state = _cross_eth_and_isolated_btc()
    eth_before = state.position("ETH")
    result = on_market(state, {**quoted(3000, "ETH"), **quoted(40000)}, config=CONFIG, now=at(1))
    (liquidated,) = [e for e in result.events if isinstance(e, Liquidated)]
    # Isolated equity 1000.2 + 0.1 * (40000 - 50010) = -0.8 < maintenance 4000 / 80 = 50.
    assert liquidated.symbols == ("BTC",)
    assert (liquidated.equity, liquidated.maintenance_margin) == (D("-0.8"), D(50))
    (fill,) = result.fills
    assert (fill.price, fill.quantity, fill.is_liquidation) == (D(39990), D("0.1"), True)
    assert fill.realized_pnl == D(-1002)  # 0.1 * (39990 - 50010)
    assert fill.fee == D("1.79955")  # 3999 * 0.00045
    # The margin comes back with the loss: 8996.19505 + 1000.2 - 1002 - 1.79955.
    assert result.state.cash == D("8992.5955")
    assert result.state.positions == (eth_before,)


def test_the_same_loss_on_a_cross_position_is_carried_by_the_account() -> None:
    state = place_order(
        account(), order("buy", "0.1", leverage=5), markets=quoted(50000), config=CONFIG, now=T0
    ).state
    result = on_market(state, quoted(40000), config=CONFIG, now=at(1))
    # Cross equity 10000 - 2.25045 - 1001 is far above 4000 / 80: nothing happens.
    assert result.fills == () and len(result.state.positions) == 1


def test_a_cross_liquidation_leaves_the_isolated_position_untouched() -> None:
    eth = place_order(
        account(1000),
        order("buy", "2", symbol="ETH", leverage=10),
        markets=quoted(3000, "ETH"),
        config=CONFIG,
        now=T0,
    ).state
    state = place_order(
        eth,
        _isolated("buy", "0.01", leverage=5, order_id="o2", stop_loss="40000"),
        markets={**quoted(3000, "ETH"), **quoted(50000)},
        config=CONFIG,
        now=T0,
    ).state
    # 1000 - 2.709 (6020 * 0.00045) - 100.02 (500.1 / 5) - 0.225045 (500.1 * 0.00045).
    assert state.cash == D("897.045955")
    btc_before = state.position("BTC")
    result = on_market(state, {**quoted(2600, "ETH"), **quoted(50000)}, config=CONFIG, now=at(1))
    (liquidated,) = [e for e in result.events if isinstance(e, Liquidated)]
    # Cross equity 897.045955 + 2 * (2600 - 3010) = 77.045955 < 2 * 2600 / 50 = 104.
    assert liquidated.symbols == ("ETH",)
    assert (liquidated.equity, liquidated.maintenance_margin) == (D("77.045955"), D(104))
    (fill,) = result.fills
    assert (fill.symbol, fill.price, fill.realized_pnl, fill.fee) == (
        "ETH",
        D(2590),
        D(-840),  # 2 * (2590 - 3010)
        D("2.331"),  # 5180 * 0.00045
    )
    assert result.state.cash == D("54.714955")  # 897.045955 - 840 - 2.331
    # The isolated position and its stop are still there.
    assert result.state.positions == (btc_before,)
    assert [t.order_id for t in result.state.triggers] == ["o2:sl"]


def test_adding_reducing_and_flipping_an_isolated_position() -> None:
    state = _isolated_long()  # 0.1 at 50010, margin 1000.2, cash 8997.54955
    grown = place_order(
        state,
        _isolated("buy", "0.1", leverage=5, order_id="o2"),
        markets=quoted(52000),
        config=CONFIG,
        now=at(1),
    ).state
    (position,) = grown.positions
    # Adds 5201 / 5 = 1040.2 of margin; entry (5001 + 5201) / 0.2 = 51010; fee 2.34045.
    assert (position.size, position.entry_price) == (D("0.2"), D(51010))
    assert position.isolated_margin == D("2040.4")
    assert grown.cash == D("7955.0091")  # 8997.54955 - 1040.2 - 2.34045

    reduced = place_order(
        grown,
        order("sell", "0.05", order_id="o3", leverage=5),
        markets=quoted(54000),
        config=CONFIG,
        now=at(2),
    )
    (position,) = reduced.state.positions
    # A quarter of the margin (510.1) comes back with 0.05 * (53990 - 51010) = 149,
    # less the fee 2699.5 * 0.00045 = 1.214775.
    assert reduced.fills[0].realized_pnl == D(149)
    assert (position.size, position.isolated_margin) == (D("0.15"), D("1530.3"))
    assert reduced.state.cash == D("8612.894325")

    flipped = place_order(
        reduced.state,
        _isolated("sell", "0.25", order_id="o4", leverage=5),
        markets=quoted(54000),
        config=CONFIG,
        now=at(3),
    )
    (position,) = flipped.state.positions
    # Closes 0.15 (+447, margin 1530.3 back), opens 0.1 short at 53990 with
    # 5399 / 5 = 1079.8 of margin; fee 13497.5 * 0.00045 = 6.073875.
    assert (position.size, position.entry_price, position.margin_mode) == (
        D("-0.1"),
        D(53990),
        ISOLATED,
    )
    assert position.isolated_margin == D("1079.8")
    assert flipped.state.cash == D("9504.32045")  # 8612.894325 + 447 + 1530.3 - 1079.8 - 6.073875
    # Conservation: cash + isolated margin = deposits + realised - fees.
    fees = D("2.25045") + D("2.34045") + D("1.214775") + D("6.073875")
    assert flipped.state.cash + position.isolated_margin == D(10000) + 149 + 447 - fees


def test_an_open_position_keeps_its_margin_mode() -> None:
    # A cross order adding to an isolated position adds isolated margin: a venue keeps the
    # mode while the position is open.
    grown = place_order(
        _isolated_long(),
        order("buy", "0.1", leverage=5, order_id="o2"),
        markets=quoted(52000),
        config=CONFIG,
        now=at(1),
    ).state
    (position,) = grown.positions
    assert position.margin_mode is ISOLATED and position.isolated_margin == D("2040.4")


def test_funding_settles_in_the_isolated_margin() -> None:
    held = Position(
        "BTC",
        D("0.1"),
        D(50000),
        5,
        D(50000),
        T0 - timedelta(minutes=30),
        margin_mode=ISOLATED,
        isolated_margin=D(1000),
    )
    state = AccountState(cash=D(9000), positions=(held,), funding_settled_at=T0)
    result = on_market(state, quoted(50000, funding_rate="0.0001"), config=CONFIG, now=at(60))
    (position,) = result.state.positions
    # A long pays 0.1 * 50000 * 0.0001 = 0.5 out of its isolated margin; cash is untouched.
    assert position.isolated_margin == D("999.5")
    assert result.state.cash == D(9000)


def test_a_resting_isolated_order_opens_an_isolated_position_when_it_fills() -> None:
    rested = place_order(
        account(),
        _isolated("buy", "0.1", price="49000", leverage=5),
        markets=quoted(50000),
        config=CONFIG,
        now=T0,
    )
    assert rested.status is OrderStatus.OPEN
    # Reserved like any resting order: 0.1 * 49000 / 5 = 980.
    assert measure(rested.state, CONFIG).order_margin == D(980)
    filled = on_market(
        rested.state, {"BTC": market(mark=48900, low=48800)}, config=CONFIG, now=at(1)
    )
    (position,) = filled.state.positions
    assert (position.margin_mode, position.isolated_margin) == (ISOLATED, D(980))
    # 10000 - 980 - 4900 * 0.00015 (maker) = 9019.265.
    assert filled.state.cash == D("9019.265")


def test_an_isolated_order_needs_its_margin_in_cash() -> None:
    # 0.1 * 50010 / 1 = 5001 of margin against 1000 of cash.
    result = place_order(
        account(1000),
        _isolated("buy", "0.1", leverage=1),
        markets=quoted(50000),
        config=CONFIG,
        now=T0,
    )
    assert result.reject_code is RejectCode.INSUFFICIENT_MARGIN
    assert result.state == account(1000)
