"""The pure risk limits and venue rounding a live order passes before it is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.errors import ApiError
from hyperoru.exchanges.venue import SymbolRules
from hyperoru.trading.live.limits import (
    OrderToCheck,
    RiskLimits,
    Rounded,
    check_order,
    daily_loss,
    daily_loss_breached,
    round_price,
)

D = Decimal
BINANCE_BTC = SymbolRules("BTC", tick_size=D("0.1"), step_size=D("0.001"), min_notional=D(5),
                          max_leverage=20)  # fmt: skip
# Hyperliquid: 5 significant figures, at most 6 - szDecimals decimals.
HL_ETH = SymbolRules(
    "ETH",
    tick_size=None,
    step_size=D("0.0001"),
    min_notional=D(10),
    max_leverage=25,
    price_significant_figures=5,
    max_price_decimals=2,
)
OPEN = RiskLimits(max_leverage=10)


def order(**changes: object) -> OrderToCheck:
    values: dict[str, object] = {
        "symbol": "BTC", "side": "buy", "order_type": "limit", "quantity": D("0.0105"),
        "price": D("50000.07"), "leverage": 2, "reduce_only": False,
    }  # fmt: skip
    values.update(changes)
    return OrderToCheck(**values)  # type: ignore[arg-type]


def check(
    o: OrderToCheck, limits: RiskLimits = OPEN, position: str = "0", loss: str = "0"
) -> object:
    return check_order(
        o, limits=limits, rules=BINANCE_BTC, reference=D(50000), position_size=D(position),
        loss_today=D(loss),
    )  # fmt: skip


def code(result: object) -> str:
    assert isinstance(result, ApiError), result
    assert result.status == 422
    return result.code


def test_limit_orders_round_to_step_and_away_from_crossing() -> None:
    assert check(order()) == Rounded(D("0.010"), D("50000.0"))
    assert check(order(side="sell")) == Rounded(D("0.010"), D("50000.1"))


def test_market_orders_carry_a_worst_price_beyond_the_reference() -> None:
    assert check(order(order_type="market", price=None)) == Rounded(D("0.010"), D("52500.0"))
    sold = check(order(order_type="market", price=None, side="sell"))
    assert sold == Rounded(D("0.010"), D("47500.0"))


def test_significant_figure_prices_round_like_hyperliquid() -> None:
    assert round_price(D("3001.234"), HL_ETH, up=False) == D("3001.2")
    assert round_price(D("3001.234"), HL_ETH, up=True) == D("3001.3")
    assert round_price(D("1.234567"), HL_ETH, up=False) == D("1.23")
    assert round_price(D("123456"), HL_ETH, up=False) == D("123456")  # integers always valid


@pytest.mark.parametrize(
    ("changes", "limits", "position", "loss", "expected"),
    [
        ({"symbol": "DOGE"}, OPEN, "0", "0", "UNKNOWN_SYMBOL"),
        ({"quantity": D("0.0004")}, OPEN, "0", "0", "INVALID_SIZE"),
        ({}, RiskLimits(10, allowed_symbols=frozenset({"ETH"})), "0", "0", "SYMBOL_NOT_ALLOWED"),
        ({}, RiskLimits(10, max_daily_loss=D(100)), "0", "100", "DAILY_LOSS_LIMIT"),
        ({"leverage": 11}, OPEN, "0", "0", "LEVERAGE_TOO_HIGH"),
        ({"leverage": 21}, RiskLimits(50), "0", "0", "LEVERAGE_TOO_HIGH"),  # the venue's cap
        ({"quantity": D("0.0001"), "price": D(40000)}, OPEN, "0", "0", "INVALID_SIZE"),
        ({"quantity": D("0.001"), "price": D(4000)}, OPEN, "0", "0", "MIN_NOTIONAL"),
        ({}, RiskLimits(10, max_order_notional=D(499)), "0", "0", "ORDER_NOTIONAL_TOO_HIGH"),
        ({}, RiskLimits(10, max_position_notional=D(1000)), "0.015", "0",
         "POSITION_NOTIONAL_TOO_HIGH"),
    ],
)  # fmt: skip
def test_each_limit_refuses_with_its_code(
    changes: dict[str, object], limits: RiskLimits, position: str, loss: str, expected: str
) -> None:
    result = (
        check_order(
            order(**changes),
            limits=limits,
            rules=None,
            reference=D(50000),
            position_size=D(0),
            loss_today=D(0),
        )
        if expected == "UNKNOWN_SYMBOL"
        else check(order(**changes), limits, position, loss)
    )
    assert code(result) == expected


def test_limits_at_their_edge_pass() -> None:
    exact = RiskLimits(10, max_order_notional=D(500), max_position_notional=D(500),
                       max_daily_loss=D(100), allowed_symbols=frozenset({"BTC"}))  # fmt: skip
    assert isinstance(check(order(price=D(50000)), exact, loss="99.99"), Rounded)


def test_an_order_that_shrinks_a_too_large_position_passes() -> None:
    limits = RiskLimits(10, max_position_notional=D(1000))
    assert isinstance(check(order(side="sell"), limits, position="0.05"), Rounded)


def test_reduce_only_orders_pass_every_trader_limit() -> None:
    everything = RiskLimits(1, max_order_notional=D(1), max_position_notional=D(1),
                            max_daily_loss=D(1), allowed_symbols=frozenset())  # fmt: skip
    closing = order(side="sell", reduce_only=True, leverage=5)
    assert check(closing, everything, position="0.0105", loss="500") == Rounded(
        D("0.010"), D("50000.1")
    )


def test_daily_loss_counts_only_falls_from_the_days_first_equity() -> None:
    assert daily_loss(D(10000), D(9900)) == D(100)
    assert daily_loss(D(10000), D(10100)) == 0
    assert daily_loss(None, D(1)) == 0
    assert daily_loss_breached(RiskLimits(1, max_daily_loss=D(100)), D(100))
    assert not daily_loss_breached(RiskLimits(1, max_daily_loss=D(100)), D("99.99"))
    assert not daily_loss_breached(RiskLimits(1), D(10**9))
