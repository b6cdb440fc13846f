"""Liquidation: the exact threshold, cross margin, forced fills and what gets cancelled."""

from __future__ import annotations

import pytest

from hyperoru.trading.engine import (
    AccountState,
    AssetSpec,
    EngineConfig,
    Liquidated,
    OrderStatus,
    Position,
    RestingOrder,
    Side,
    liquidation_price,
    on_market,
)
from tests.trading.engine.kit import T0, D, at, market

# Max leverage 25: maintenance margin = notional / 50 (2% of notional).
BTC25 = AssetSpec("BTC", sz_decimals=5, max_leverage=25)
ETH25 = AssetSpec("ETH", sz_decimals=4, max_leverage=25)
CONFIG25 = EngineConfig.of(BTC25, ETH25)


def _one_position(cash: str, size: str) -> AccountState:
    position = Position("BTC", D(size), D(50000), 10, D(50000), T0)
    return AccountState(cash=D(cash), positions=(position,), funding_settled_at=T0)


def _at_mark(state: AccountState, mark: str):
    snapshot = market(mark=mark, bids=[(D(mark) - 1, 10)], asks=[(D(mark) + 1, 10)])
    return on_market(state, {"BTC": snapshot}, config=CONFIG25, now=at(1))


# Long 1 BTC from 50000 with 10800 cash: equity = 10800 + (m - 50000), maintenance = m / 50.
# They meet at m = 40000 (equity 800 = maintenance 800).
@pytest.mark.parametrize(
    ("mark", "liquidated"),
    [("40000.01", False), ("40000", False), ("39999.99", True)],
)
def test_long_is_liquidated_exactly_below_the_threshold(mark: str, liquidated: bool) -> None:
    result = _at_mark(_one_position("10800", "1"), mark)
    assert any(isinstance(e, Liquidated) for e in result.events) is liquidated
    assert (result.state.positions == ()) is liquidated


# Short 1 BTC from 50000 with 11200 cash: equity = 11200 - (m - 50000), maintenance = m / 50.
# They meet at m = 60000 (equity 1200 = maintenance 1200).
@pytest.mark.parametrize(
    ("mark", "liquidated"),
    [("59999.99", False), ("60000", False), ("60000.01", True)],
)
def test_short_is_liquidated_exactly_above_the_threshold(mark: str, liquidated: bool) -> None:
    result = _at_mark(_one_position("11200", "-1"), mark)
    assert any(isinstance(e, Liquidated) for e in result.events) is liquidated


def test_liquidation_price_is_where_equity_meets_maintenance() -> None:
    assert liquidation_price(_one_position("10800", "1"), "BTC", CONFIG25) == 40000
    assert liquidation_price(_one_position("11200", "-1"), "BTC", CONFIG25) == 60000
    assert liquidation_price(_one_position("10800", "1"), "ETH", CONFIG25) is None


def test_liquidation_fills_walk_the_book_then_take_the_cap_price() -> None:
    # Mark 39000, no asks: the cap is measured from the mark, 39000 * 0.95 = 37050.
    state = _one_position("10800", "1")
    thin = {"BTC": market(mark=39000, bids=[(38990, "0.4")])}
    result = on_market(state, thin, config=CONFIG25, now=at(1))
    fills = [(f.price, f.quantity, f.is_liquidation, f.side) for f in result.fills]
    assert fills == [(38990, D("0.4"), True, Side.SELL), (37050, D("0.6"), True, Side.SELL)]
    # pnl 0.4 * -11010 + 0.6 * -12950 = -4404 - 7770; fees 0.045% of 15596 and 22230
    assert sum(f.realized_pnl for f in result.fills) == D(-12174)
    assert sum(f.fee for f in result.fills) == D("7.0182") + D("10.0035")
    # No backstop: the loss beyond the deposit stays as negative cash.
    assert result.state.cash == D(10800) - 12174 - D("17.0217")


def test_cross_margin_liquidates_every_position_and_cancels_orders() -> None:
    # The ETH loss drags the account under; the healthy BTC position goes with it.
    btc = Position("BTC", D("0.1"), D(50000), 5, D(50000), T0)
    eth = Position("ETH", D("-10"), D(3000), 10, D(3000), T0)
    bid = RestingOrder("bid", "BTC", Side.BUY, D(45000), D("0.1"), 5, T0)
    state = AccountState(cash=D(3000), positions=(btc, eth), open_orders=(bid,))
    # ETH at 3280: equity = 3000 + 0 - 2800 = 200; maintenance = 5000/50 + 32800/50 = 756.
    markets = {
        "BTC": market("BTC", 50000, bids=[(49990, 1)], asks=[(50010, 1)]),
        "ETH": market("ETH", 3280, bids=[(3279, 100)], asks=[(3281, 100)]),
    }
    result = on_market(state, markets, config=CONFIG25, now=at(1))
    (event,) = [e for e in result.events if isinstance(e, Liquidated)]
    assert (event.equity, event.maintenance_margin, event.symbols) == (
        D(200),
        D(756),
        ("BTC", "ETH"),
    )
    assert [(f.symbol, f.price) for f in result.fills] == [("BTC", 49990), ("ETH", 3281)]
    assert all(f.is_liquidation for f in result.fills)
    assert result.state.positions == () and result.state.open_orders == ()
    cancelled = [e for e in result.events if getattr(e, "status", None) is OrderStatus.CANCELLED]
    assert [e.order_id for e in cancelled] == ["bid"]
