"""Venue checks and reject codes: each rule, its boundary, and that a reject changes nothing."""

from __future__ import annotations

import pytest

from hyperoru.trading.engine import (
    AccountState,
    MarketSnapshot,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OrderType,
    RejectCode,
    Side,
    place_order,
)
from tests.trading.engine.kit import CONFIG, T0, D, account, market, order, quoted


def _place(
    request: OrderRequest,
    *,
    cash: int | str = 10000,
    max_leverage: int = 10,
    markets: dict[str, MarketSnapshot] | None = None,
) -> tuple[AccountState, OrderResult]:
    markets = markets or quoted(50000, request.symbol)
    state = account(cash, max_leverage)
    return state, place_order(state, request, markets=markets, config=CONFIG, now=T0)


def _rejected(result: OrderResult, code: RejectCode) -> None:
    assert (result.status, result.reject_code) == (OrderStatus.REJECTED, code)
    assert result.fills == ()


def test_unknown_symbol_is_rejected() -> None:
    state, result = _place(order("buy", "1", symbol="DOGE"), markets=quoted(100, "DOGE"))
    _rejected(result, RejectCode.UNKNOWN_SYMBOL)
    assert result.state is state


def test_a_symbol_without_market_data_has_no_liquidity() -> None:
    _, result = _place(order("buy", "0.1"), markets=quoted(3000, "ETH"))
    _rejected(result, RejectCode.NO_LIQUIDITY)


@pytest.mark.parametrize(
    ("leverage", "trader_max", "symbol", "accepted"),
    [
        (10, 10, "BTC", True),
        (11, 10, "BTC", False),  # above the trader's maximum
        (25, 50, "ETH", True),
        (26, 50, "ETH", False),  # above the asset's maximum (ETH 25x)
    ],
)
def test_leverage_above_the_limit_is_rejected_never_clamped(
    leverage: int, trader_max: int, symbol: str, accepted: bool
) -> None:
    request = order("buy", "0.01", symbol=symbol, leverage=leverage)
    state, result = _place(request, max_leverage=trader_max)
    if accepted:
        assert result.status is OrderStatus.FILLED
        assert result.state.positions[0].leverage == leverage
    else:
        _rejected(result, RejectCode.LEVERAGE_TOO_HIGH)
        assert result.state is state


def test_size_is_rounded_down_to_the_asset_lot() -> None:
    _, result = _place(order("buy", "0.123456789"))
    assert result.filled_quantity == D("0.12345")


def test_size_that_rounds_to_zero_is_invalid() -> None:
    _, result = _place(order("buy", "0.000009"))
    _rejected(result, RejectCode.INVALID_SIZE)


@pytest.mark.parametrize(
    ("symbol", "price", "valid"),
    [
        ("BTC", "50001", True),  # integers always pass
        ("BTC", "123456", True),  # even with 6 significant figures
        ("BTC", "5000.5", True),  # 5 significant figures, 1 decimal (6 - 5)
        ("BTC", "50000.5", False),  # 6 significant figures
        ("BTC", "500.25", False),  # 2 decimals > 6 - 5
        ("ETH", "300.55", True),  # ETH: 6 - 4 = 2 decimals
        ("ETH", "30.555", False),
        ("ETH", "3000.50", True),  # trailing zeros do not count
    ],
)
def test_price_precision_follows_the_venue(symbol: str, price: str, valid: bool) -> None:
    # A resting bid far below the market: only the price rule can reject it.
    request = order("buy", "1", symbol=symbol, price=price)
    _, result = _place(request, cash=10**7, markets=quoted(200000, symbol))
    if valid:
        assert result.status is OrderStatus.OPEN
    else:
        _rejected(result, RejectCode.INVALID_TICK)


def test_stop_loss_price_is_checked_for_precision_too() -> None:
    _, result = _place(order("buy", "0.01", stop_loss="45000.5"))
    _rejected(result, RejectCode.INVALID_TICK)


def test_notional_must_reach_ten_dollars() -> None:
    # 0.0002 BTC at the 50000 mark is exactly $10: accepted; 0.0001 is $5: rejected.
    _, enough = _place(order("buy", "0.0002"))
    assert enough.status is OrderStatus.FILLED
    _, small = _place(order("buy", "0.0001"))
    _rejected(small, RejectCode.MIN_NOTIONAL)


def test_a_limit_order_notional_uses_its_own_price() -> None:
    # 0.0002 * 49999 = 9.9998 < 10, although at the mark it would be exactly 10.
    _, result = _place(order("buy", "0.0002", price="49999"))
    _rejected(result, RejectCode.MIN_NOTIONAL)


def test_reduce_only_without_a_position_is_rejected() -> None:
    _, result = _place(order("sell", "0.1", reduce_only=True))
    _rejected(result, RejectCode.REDUCE_ONLY_REJECTED)


def test_reduce_only_on_the_same_side_as_the_position_is_rejected() -> None:
    state = place_order(
        account(), order("buy", "0.1"), markets=quoted(50000), config=CONFIG, now=T0
    ).state
    request = order("buy", "0.1", order_id="o2", reduce_only=True)
    result = place_order(state, request, markets=quoted(50000), config=CONFIG, now=T0)
    _rejected(result, RejectCode.REDUCE_ONLY_REJECTED)
    assert result.state is state


def test_reduce_only_larger_than_the_position_only_closes_it() -> None:
    state = place_order(
        account(), order("buy", "0.1"), markets=quoted(50000), config=CONFIG, now=T0
    ).state
    request = order("sell", "1", order_id="o2", reduce_only=True)
    result = place_order(state, request, markets=quoted(50000), config=CONFIG, now=T0)
    assert result.filled_quantity == D("0.1")
    assert result.state.positions == ()


def test_post_only_that_would_cross_is_rejected() -> None:
    _, result = _place(order("buy", "0.1", price="50010", tif="alo"))
    _rejected(result, RejectCode.POST_ONLY_WOULD_CROSS)


def test_post_only_below_the_ask_rests_without_filling() -> None:
    _, result = _place(order("buy", "0.1", price="50009", tif="alo"))
    assert (result.status, result.fills) == (OrderStatus.OPEN, ())
    (resting,) = result.state.open_orders
    assert (resting.price, resting.remaining) == (D(50009), D("0.1"))


def test_market_order_with_an_empty_side_has_no_liquidity() -> None:
    markets = {"BTC": market(bids=[(49990, 1)])}
    _, result = _place(order("buy", "0.1"), markets=markets)
    _rejected(result, RejectCode.NO_LIQUIDITY)


def test_market_order_with_every_ask_beyond_the_cap_has_no_liquidity() -> None:
    # mid = (47500 + 52600) / 2 = 50050, so the cap is 52552.5 and 52600 lies beyond it.
    markets = {"BTC": market(bids=[(47500, 1)], asks=[(52600, 1)])}
    _, result = _place(order("buy", "0.1"), markets=markets)
    _rejected(result, RejectCode.NO_LIQUIDITY)


def test_ioc_limit_that_does_not_cross_has_no_liquidity() -> None:
    _, result = _place(order("buy", "0.1", price="50000", tif="ioc"))
    _rejected(result, RejectCode.NO_LIQUIDITY)


def test_margin_must_cover_the_new_initial_margin_to_the_cent() -> None:
    # Buy 0.2 at 50010, 1x, mark 50000: requirement 0.2 * 50000 = 10000; equity after the
    # fill = cash - fee 4.5009 - spread 0.2 * 10 = cash - 6.5009.
    _, exact = _place(order("buy", "0.2"), cash="10006.5009")
    assert exact.status is OrderStatus.FILLED
    state, short = _place(order("buy", "0.2"), cash="10006.5008")
    _rejected(short, RejectCode.INSUFFICIENT_MARGIN)
    assert short.state is state


def test_higher_leverage_needs_less_margin() -> None:
    _, result = _place(order("buy", "0.2", leverage=5), cash="2006.5009")
    assert result.status is OrderStatus.FILLED
    assert result.state.cash == D(2002)


def test_resting_orders_reserve_margin() -> None:
    # A resting bid for 0.1 @ 40000 at 1x reserves 4000 of the 5000 equity.
    state = account(5000)
    first = order("buy", "0.1", price="40000")
    state = place_order(state, first, markets=quoted(50000), config=CONFIG, now=T0).state
    second = order("buy", "0.03", order_id="o2", price="40000")
    result = place_order(state, second, markets=quoted(50000), config=CONFIG, now=T0)
    _rejected(result, RejectCode.INSUFFICIENT_MARGIN)


def test_an_order_that_only_reduces_is_accepted_even_when_margin_is_short() -> None:
    state = place_order(
        account(), order("buy", "1", leverage=10), markets=quoted(50000), config=CONFIG, now=T0
    ).state
    # At 42000 equity (about 1977) is far below the 4200 initial margin, above maintenance.
    request = order("sell", "0.5", order_id="o2")
    result = place_order(state, request, markets=quoted(42000), config=CONFIG, now=T0)
    assert result.status is OrderStatus.FILLED
    grow = order("buy", "0.01", order_id="o3", leverage=10)
    refused = place_order(result.state, grow, markets=quoted(42000), config=CONFIG, now=T0)
    _rejected(refused, RejectCode.INSUFFICIENT_MARGIN)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quantity": D(0)},
        {"quantity": D(-1)},
        {"quantity": D("NaN")},
        {"leverage": 0},
        {"order_type": OrderType.LIMIT, "price": None},
        {"order_type": OrderType.LIMIT, "price": D(-5)},
    ],
)
def test_malformed_requests_are_refused_before_the_engine(kwargs: dict) -> None:
    fields = {
        "order_id": "x",
        "symbol": "BTC",
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "quantity": D(1),
    } | kwargs
    with pytest.raises(ValueError):
        OrderRequest(**fields)


def test_reusing_the_id_of_a_resting_order_is_a_caller_error() -> None:
    resting = order("buy", "0.1", price="49000")
    state = place_order(account(), resting, markets=quoted(50000), config=CONFIG, now=T0).state
    with pytest.raises(ValueError, match="already open"):
        place_order(state, resting, markets=quoted(50000), config=CONFIG, now=T0)
