"""Book walk, slippage cap, time in force, resting fills, maker/taker fees by venue."""

from __future__ import annotations

from decimal import Decimal

from hyperoru.trading.engine import (
    EngineConfig,
    FeeSchedule,
    Liquidity,
    OrderStatus,
    Venue,
    cancel_order,
    on_market,
    place_order,
)
from tests.trading.engine.kit import BTC, CONFIG, T0, D, account, at, market, order, quoted

LADDER = market(
    bids=[(49990, 1)],
    asks=[(50010, "0.1"), (50020, "0.1"), (50100, 1)],
)


def test_market_buy_walks_the_book_for_a_volume_weighted_price() -> None:
    result = place_order(
        account(10**6), order("buy", "0.25"), markets={"BTC": LADDER}, config=CONFIG, now=T0
    )
    assert [(f.price, f.quantity) for f in result.fills] == [
        (50010, D("0.1")),
        (50020, D("0.1")),
        (50100, D("0.05")),
    ]
    # (5001 + 5002 + 2505) / 0.25 = 50032
    assert result.average_price == 50032
    # 0.045% of each slice: 2.25045 + 2.2509 + 1.12725
    assert [f.fee for f in result.fills] == [D("2.25045"), D("2.2509"), D("1.12725")]
    assert result.state.cash == D(10**6) - D("5.6286")
    assert result.state.positions[0].entry_price == 50032


def test_market_order_stops_at_five_percent_from_mid_and_cancels_the_rest() -> None:
    # mid = (49990 + 50010) / 2 = 50000: buys may reach 52500 (inclusive), not 52501.
    book = market(bids=[(49990, 1)], asks=[(50010, "0.1"), (52500, "0.1"), (52501, 5)])
    result = place_order(
        account(10**6), order("buy", "1"), markets={"BTC": book}, config=CONFIG, now=T0
    )
    assert [f.price for f in result.fills] == [50010, 52500]
    assert (result.status, result.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, D("0.2"))
    assert result.state.open_orders == ()


def test_market_sell_cap_is_five_percent_below_mid() -> None:
    book = market(bids=[(49990, "0.1"), (47500, "0.1"), (47499, 5)], asks=[(50010, 1)])
    result = place_order(
        account(10**6), order("sell", "1"), markets={"BTC": book}, config=CONFIG, now=T0
    )
    assert [f.price for f in result.fills] == [49990, 47500]


def test_marketable_gtc_limit_takes_what_it_can_and_rests_the_rest() -> None:
    result = place_order(
        account(10**6),
        order("buy", "0.3", price="50020"),
        markets={"BTC": LADDER},
        config=CONFIG,
        now=T0,
    )
    assert [f.price for f in result.fills] == [50010, 50020]
    assert result.status is OrderStatus.PARTIALLY_FILLED
    (resting,) = result.state.open_orders
    assert (resting.price, resting.filled_quantity, resting.remaining) == (
        50020,
        D("0.2"),
        D("0.1"),
    )


def test_ioc_limit_cancels_its_unfilled_rest() -> None:
    request = order("buy", "0.3", price="50020", tif="ioc")
    result = place_order(account(10**6), request, markets={"BTC": LADDER}, config=CONFIG, now=T0)
    assert (result.status, result.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, D("0.2"))
    assert result.state.open_orders == ()


def _resting_bid() -> tuple:
    request = order("buy", "0.1", price="49000")
    placed = place_order(account(), request, markets=quoted(50000), config=CONFIG, now=T0)
    assert placed.status is OrderStatus.OPEN
    return placed.state


def test_resting_limit_waits_while_the_market_stays_above_it() -> None:
    state = _resting_bid()
    result = on_market(
        state,
        {"BTC": market(mark=49500, bids=[(49490, 1)], asks=[(49510, 1)], low=49000)},
        config=CONFIG,
        now=at(1),
    )
    # A trade exactly at our price does not prove we were filled: the queue was ahead.
    assert result.fills == ()
    assert len(result.state.open_orders) == 1


def test_resting_limit_fills_at_its_price_as_maker_when_the_ask_reaches_it() -> None:
    state = _resting_bid()
    crossed = {"BTC": market(mark=48950, bids=[(48900, 1)], asks=[(48950, 1)])}
    result = on_market(state, crossed, config=CONFIG, now=at(1))
    (fill,) = result.fills
    assert (fill.price, fill.quantity, fill.liquidity) == (49000, D("0.1"), Liquidity.MAKER)
    assert fill.fee == D("0.735")  # 4900 * 0.015%
    assert result.state.open_orders == ()


def test_resting_limit_fills_when_trades_go_through_it() -> None:
    state = _resting_bid()
    through = {"BTC": market(mark=49500, bids=[(49490, 1)], asks=[(49510, 1)], low="48999")}
    (fill,) = on_market(state, through, config=CONFIG, now=at(1)).fills
    assert fill.price == 49000


def test_resting_sell_fills_when_trades_go_above_it() -> None:
    request = order("sell", "0.1", price="51000")
    state = place_order(account(), request, markets=quoted(50000), config=CONFIG, now=T0).state
    through = {"BTC": market(mark=50500, bids=[(50490, 1)], asks=[(50510, 1)], high=51001)}
    (fill,) = on_market(state, through, config=CONFIG, now=at(1)).fills
    assert (fill.price, fill.liquidity) == (51000, Liquidity.MAKER)


def test_binance_fees_are_five_and_two_basis_points() -> None:
    binance = EngineConfig.of(BTC, fees=FeeSchedule.for_venue(Venue.BINANCE))
    taker = place_order(
        account(), order("buy", "0.1"), markets=quoted(50000), config=binance, now=T0
    )
    assert taker.fills[0].fee == D("2.5005")  # 5001 * 0.05%
    maker = place_order(
        account(), order("buy", "0.1", price="49000"), markets=quoted(50000), config=binance, now=T0
    )
    crossed = {"BTC": market(mark=48950, bids=[(48900, 1)], asks=[(48950, 1)])}
    (fill,) = on_market(maker.state, crossed, config=binance, now=at(1)).fills
    assert fill.fee == D("0.98")  # 4900 * 0.02%


def test_a_trader_fee_override_replaces_the_venue_schedule() -> None:
    custom = EngineConfig.of(BTC, fees=FeeSchedule(taker_rate=D("0.001"), maker_rate=D(0)))
    result = place_order(
        account(), order("buy", "0.1"), markets=quoted(50000), config=custom, now=T0
    )
    assert result.fills[0].fee == D("5.001")


def test_fees_are_rounded_to_the_ledger_quantum() -> None:
    # 0.00001 * 50010 * 0.00045 = 0.000225045 -> 0.00022504 (half-even at 1e-8)
    result = place_order(
        account(), order("buy", "0.0003"), markets=quoted(50000), config=CONFIG, now=T0
    )
    assert result.fills[0].fee == D("0.00675135")
    assert result.fills[0].fee.as_tuple().exponent >= -8
    assert CONFIG.fees.fee(D("0.500100"), Liquidity.TAKER) == D("0.00022504")


def test_resting_reduce_only_is_cancelled_once_the_position_is_gone() -> None:
    state = place_order(
        account(), order("buy", "0.1"), markets=quoted(50000), config=CONFIG, now=T0
    ).state
    take = order("sell", "0.1", order_id="tp", price="51000", reduce_only=True)
    state = place_order(state, take, markets=quoted(50000), config=CONFIG, now=T0).state
    close = order("sell", "0.1", order_id="close")
    state = place_order(state, close, markets=quoted(50000), config=CONFIG, now=T0).state
    result = on_market(
        state,
        {"BTC": market(mark=51500, bids=[(51490, 1)], asks=[(51510, 1)])},
        config=CONFIG,
        now=at(1),
    )
    assert result.fills == () and result.state.positions == ()
    (update,) = result.events
    assert (update.order_id, update.status) == ("tp", OrderStatus.CANCELLED)


def test_cancel_removes_a_resting_order_and_its_waiting_triggers() -> None:
    request = order("buy", "0.1", price="49000", stop_loss="45000")
    state = place_order(account(), request, markets=quoted(50000), config=CONFIG, now=T0).state
    assert [t.status for t in state.triggers] == [OrderStatus.WAITING]
    result = cancel_order(state, "o1", now=at(1))
    assert result is not None
    assert result.state.open_orders == () and result.state.triggers == ()
    assert [(e.order_id, e.status) for e in result.events] == [
        ("o1", OrderStatus.CANCELLED),
        ("o1:sl", OrderStatus.CANCELLED),
    ]
    assert cancel_order(result.state, "o1", now=at(2)) is None


def test_same_book_gives_every_order_the_same_liquidity() -> None:
    # Paper orders do not consume the venue's book: two orders in a row see it untouched.
    book = {"BTC": market(bids=[(49990, 1)], asks=[(50010, "0.1"), (50020, 1)])}
    first = place_order(account(10**6), order("buy", "0.1"), markets=book, config=CONFIG, now=T0)
    second = place_order(
        first.state, order("buy", "0.1", order_id="o2"), markets=book, config=CONFIG, now=T0
    )
    assert [f.price for f in second.fills] == [Decimal(50010)]
