"""Exact answers that the property tests could not tell from wrong ones (mutation testing,
scripts/mutation.py): the slippage cap measured from the mid when the mark differs, the
cross-margin liquidation price with the rest of the account in it, and the margin a
partially filled order still reserves."""

from __future__ import annotations

import pytest

from hyperoru.trading.engine import (
    AccountState,
    AssetSpec,
    EngineConfig,
    Liquidated,
    OrderStatus,
    Position,
    RejectCode,
    RestingOrder,
    Side,
    liquidation_price,
    measure,
    on_market,
    place_order,
)
from tests.trading.engine.kit import CONFIG, T0, D, at, market, order

# Max leverage 25: maintenance margin = notional / 50.
CONFIG25 = EngineConfig.of(
    AssetSpec("BTC", sz_decimals=5, max_leverage=25),
    AssetSpec("ETH", sz_decimals=4, max_leverage=25),
)


def test_a_market_order_reaches_five_percent_past_the_mid_not_the_mark() -> None:
    # The mark lags at 50000 while the book has moved to a 51000 mid: the cap is
    # 51000 * 1.05 = 53550 (from the mark it would be 52500 and miss the 53000 level).
    book = market(mark=50000, bids=[(50990, 1)], asks=[(51010, "0.1"), (53000, 1), (53600, 1)])
    result = place_order(
        AccountState(cash=D(100000), max_leverage=10),
        order("buy", "0.5", leverage=5),
        markets={"BTC": book},
        config=CONFIG,
        now=T0,
    )
    assert [(f.price, f.quantity) for f in result.fills] == [
        (D(51010), D("0.1")),
        (D(53000), D("0.4")),
    ]


def test_a_forced_close_fills_its_remainder_at_the_cap_from_the_mid() -> None:
    # Long 1 BTC from 50000 on 10800 cash; the book has fallen to a 39000 mid, the mark
    # says 39500 (equity 300 < maintenance 790): liquidated. The bid takes 0.25, the rest
    # fills at 39000 * 0.95 = 37050, not at the mark's 37525.
    position = Position("BTC", D(1), D(50000), 10, D(50000), T0)
    state = AccountState(cash=D(10800), positions=(position,), funding_settled_at=T0)
    thin = {"BTC": market(mark=39500, bids=[(38990, "0.25")], asks=[(39010, 5)])}
    result = on_market(state, thin, config=CONFIG25, now=at(1))
    assert [(f.price, f.quantity) for f in result.fills] == [
        (D(38990), D("0.25")),
        (D(37050), D("0.75")),
    ]


def _cross_margin_account() -> AccountState:
    # Long 1 BTC from 50000 (mark 50000); short 10 ETH from 3000, marked at 3100.
    btc = Position("BTC", D(1), D(50000), 10, D(50000), T0)
    eth = Position("ETH", D(-10), D(3000), 10, D(3100), T0)
    return AccountState(cash=D(5000), positions=(btc, eth), funding_settled_at=T0)


def test_the_cross_margin_liquidation_price_counts_the_rest_of_the_account() -> None:
    # Everything but BTC: equity 5000 + (-10) * 100 = 4000, maintenance 31000 / 50 = 620.
    # Equity meets maintenance where 4000 + (p - 50000) = 620 + p / 50:
    # p = (620 - 4000 + 50000) / (1 - 1/50) = 46620 / 0.98 = 47571.428571428571...
    state = _cross_margin_account()
    price = liquidation_price(state, "BTC", CONFIG25)
    assert price == D("47571.428571428571")
    # ETH's, with BTC at its mark: equity 5000 + 0 = 5000, maintenance 50000 / 50 = 1000.
    # 5000 - 10 * (p - 3000) = 1000 + 10 * p / 50  ->  p = 34000 / 10.2 = 3333.333...
    assert liquidation_price(state, "ETH", CONFIG25) == D("3333.333333333333")

    def liquidated_at(btc_mark: str) -> bool:
        markets = {
            "BTC": market("BTC", btc_mark, bids=[(1, 10)], asks=[(99999, 10)]),
            "ETH": market("ETH", 3100, bids=[(3099, 100)], asks=[(3101, 100)]),
        }
        result = on_market(state, markets, config=CONFIG25, now=at(1))
        return any(isinstance(e, Liquidated) for e in result.events)

    assert not liquidated_at("47571.43") and liquidated_at("47571.42")


def test_a_partially_filled_order_reserves_margin_for_what_is_left() -> None:
    # 1 BTC bid at 50000, 10x, 0.6 already filled: 0.4 * 50000 / 10 = 2000 reserved.
    partial = RestingOrder("bid", "BTC", Side.BUY, D(50000), D(1), 10, T0, D("0.6"))
    closing = RestingOrder("ask", "BTC", Side.SELL, D(60000), D(1), 10, T0, reduce_only=True)
    state = AccountState(cash=D(10000), open_orders=(partial, closing))
    metrics = measure(state, CONFIG)
    assert metrics.order_margin == D(2000)
    assert metrics.available == D(8000)


def test_a_limit_that_fills_in_part_then_rests_reserves_only_its_rest() -> None:
    # A 1 BTC bid at 50000 takes the 0.3 offered at 49990 and rests with 0.7 left:
    # reserved 0.7 * 50000 / 10 = 3500 beside 0.3 * 49990 / 10 = 1499.7 of position margin.
    book = market(mark=50000, bids=[(49980, 1)], asks=[(49990, "0.3"), (50100, 5)])
    result = place_order(
        AccountState(cash=D(10000), max_leverage=10),
        order("buy", "1", price="50000", leverage=10),
        markets={"BTC": book},
        config=CONFIG,
        now=T0,
    )
    (resting,) = result.state.open_orders
    assert resting.filled_quantity == D("0.3")
    metrics = measure(result.state, CONFIG)
    assert metrics.order_margin == D(3500)
    assert metrics.margin_used == D("1500")  # marked at 50000
    assert metrics.available == metrics.equity - D(5000)


def test_fees_follow_the_liquidity_of_each_fill() -> None:
    # Taker 0.045%, maker 0.015%: a resting bid filled later pays the maker rate.
    book = market(mark=50000, bids=[(49990, 1)], asks=[(50010, 1)])
    placed = place_order(
        AccountState(cash=D(10000), max_leverage=10),
        order("buy", "0.1", price="49000", leverage=5),
        markets={"BTC": book},
        config=CONFIG,
        now=T0,
    )
    through = market(mark=48900, bids=[(48890, 1)], asks=[(48910, 1)], low=48800, high=49100)
    filled = on_market(placed.state, {"BTC": through}, config=CONFIG, now=at(1))
    (fill,) = filled.fills
    assert (fill.price, fill.fee) == (D(49000), D("0.735"))  # 4900 * 0.00015
    taken = place_order(
        AccountState(cash=D(10000), max_leverage=10),
        order("buy", "0.1", leverage=5),
        markets={"BTC": book},
        config=CONFIG,
        now=T0,
    )
    (fill,) = taken.fills
    assert (fill.price, fill.fee) == (D(50010), D("2.250450"))  # 5001 * 0.00045


@pytest.mark.parametrize(
    ("side", "price", "bids", "asks", "rests"),
    [
        ("buy", "50010", [(49990, 1)], [(50010, 1)], False),  # at the ask: would take it
        ("sell", "49990", [(49990, 1)], [(50010, 1)], False),  # at the bid: would take it
        ("sell", "49991", [(49990, 1)], [(50010, 1)], True),  # inside the spread
        ("buy", "50009", [(49990, 1)], [(50010, 1)], True),
        ("buy", "60000", [(49990, 1)], [], True),  # nothing to take on the other side
        ("sell", "40000", [], [(50010, 1)], True),
    ],
)
def test_post_only_is_refused_exactly_when_it_would_take_liquidity(
    side: str, price: str, bids: list, asks: list, rests: bool
) -> None:
    book = market(mark=50000, bids=bids, asks=asks)
    result = place_order(
        AccountState(cash=D(100000), max_leverage=10),
        order(side, "0.1", price=price, tif="alo"),
        markets={"BTC": book},
        config=CONFIG,
        now=T0,
    )
    assert result.fills == ()
    if rests:
        assert result.status is OrderStatus.OPEN and len(result.state.open_orders) == 1
    else:
        assert result.reject_code is RejectCode.POST_ONLY_WOULD_CROSS


def test_a_resting_sell_waits_while_trades_only_touch_its_price() -> None:
    # The mirror of the bid's rule: a high exactly at our ask proves nothing (the queue
    # ahead of us may have taken it); a cent above does.
    placed = place_order(
        AccountState(cash=D(10000), max_leverage=10),
        order("sell", "0.1", price="51000"),
        markets={"BTC": market(mark=50000, bids=[(49990, 1)], asks=[(50010, 1)])},
        config=CONFIG,
        now=T0,
    )

    def fills_at(high: str) -> int:
        moved = market(mark=50500, bids=[(50490, 1)], asks=[(50510, 1)], high=high)
        return len(on_market(placed.state, {"BTC": moved}, config=CONFIG, now=at(1)).fills)

    assert fills_at("51000") == 0 and fills_at("51000.01") == 1


def test_liquidation_prices_below_one_dollar_and_none_for_a_fully_funded_long() -> None:
    # 1000 units at 0.9 on 450 of cash, max 25x: p = (0 - 450 + 900) / (1000 - 20) = 0.4591…
    cheap = AccountState(
        cash=D(450), positions=(Position("BTC", D(1000), D("0.9"), 2, D("0.9"), T0),)
    )
    assert liquidation_price(cheap, "BTC", CONFIG25) == D("0.459183673469")
    # Cash equal to the whole entry value: the price would have to reach exactly 0.
    funded = AccountState(cash=D(100), positions=(Position("BTC", D(1), D(100), 1, D(100), T0),))
    assert liquidation_price(funded, "BTC", CONFIG25) is None


def test_liquidation_fills_carry_the_order_id_of_their_first_fill() -> None:
    position = Position("BTC", D(1), D(50000), 10, D(50000), T0)
    state = AccountState(
        cash=D(10800), positions=(position,), funding_settled_at=T0, last_fill_id=41
    )
    crash = {"BTC": market(mark=39000, bids=[(38990, "0.4")], asks=[(39010, 1)])}
    fills = on_market(state, crash, config=CONFIG25, now=at(1)).fills
    assert [(f.fill_id, f.order_id) for f in fills] == [
        (42, "liquidation:42"),
        (43, "liquidation:42"),
    ]


def test_a_symbol_without_market_data_keeps_its_stored_mark() -> None:
    # Trading ETH while BTC's market is missing: the BTC position is measured at the mark
    # it was stored with (place_order's contract), not dropped or failed on.
    btc = Position("BTC", D(1), D(50000), 10, D(48000), T0)
    state = AccountState(cash=D(20000), positions=(btc,), max_leverage=10)
    eth = {"ETH": market("ETH", 3000, bids=[(2999, 10)], asks=[(3001, 10)])}
    result = place_order(state, order("buy", "1", symbol="ETH"), markets=eth, config=CONFIG, now=T0)
    assert result.reject_code is None
    assert result.state.position("BTC") == btc
    # BTC -2000 at its stored 48000; ETH bought at 3001, marked at 3000: -1.
    assert measure(result.state, CONFIG).unrealized_pnl == D(-2001)


@pytest.mark.parametrize(
    ("sz_decimals", "max_leverage", "valid"),
    [(0, 1, True), (6, 50, True), (7, 10, False), (-1, 10, False), (5, 0, False)],
)
def test_asset_specs_take_zero_to_six_size_decimals_and_leverage_from_one(
    sz_decimals: int, max_leverage: int, valid: bool
) -> None:
    if valid:
        assert AssetSpec("X", sz_decimals, max_leverage).max_leverage == max_leverage
    else:
        with pytest.raises(ValueError):
            AssetSpec("X", sz_decimals, max_leverage)
