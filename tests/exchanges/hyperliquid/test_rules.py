"""Hyperliquid's rules from meta, rounding to them, and the per-signer nonce counter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.exchanges.hyperliquid.nonces import SignerNonces
from hyperoru.exchanges.hyperliquid.rules import (
    check_order,
    markets_from_meta,
    price_is_valid,
    round_price,
    round_size,
    size_is_valid,
    worst_price,
)
from hyperoru.exchanges.venue import VenueError

META = {
    "universe": [
        {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
        {"name": "GONE", "szDecimals": 0, "maxLeverage": 3, "isDelisted": True},
        {"name": "ETH", "szDecimals": 4, "maxLeverage": 25},
        {"name": "DOGE", "szDecimals": 0, "maxLeverage": 10},
    ]
}
MARKETS = markets_from_meta(META)
BTC, ETH, DOGE = (MARKETS[name].rules for name in ("BTC", "ETH", "DOGE"))


def test_asset_index_is_the_position_in_the_universe_and_delisted_coins_drop_out() -> None:
    assert {name: market.asset for name, market in MARKETS.items()} == {
        "BTC": 0,
        "ETH": 2,
        "DOGE": 3,
    }
    assert ETH.step_size == Decimal("0.0001")
    assert ETH.max_price_decimals == 2
    assert ETH.price_significant_figures == 5
    assert ETH.tick_size is None
    assert ETH.min_notional == Decimal(10)
    assert ETH.max_leverage == 25
    assert DOGE.step_size == Decimal(1)
    assert DOGE.max_price_decimals == 6


@pytest.mark.parametrize(
    ("price", "rules", "expected"),
    [
        (Decimal("1891.456"), ETH, Decimal("1891.5")),  # 5 significant figures
        (Decimal("12.34567"), ETH, Decimal("12.35")),  # 2 decimals for ETH (6 - 4)
        (Decimal("123456.7"), BTC, Decimal("123457")),  # an integer is always valid
        (Decimal("0.123456789"), DOGE, Decimal("0.12346")),
        (Decimal("0.0000123456"), DOGE, Decimal("0.000012")),  # 6 decimals cap
        (Decimal("99999.5"), BTC, Decimal("100000")),
    ],
)
def test_round_price(price: Decimal, rules: object, expected: Decimal) -> None:
    rounded = round_price(price, rules)  # type: ignore[arg-type]
    assert rounded == expected
    assert price_is_valid(rounded, rules)  # type: ignore[arg-type]
    assert "E" not in str(rounded)


def test_price_validity() -> None:
    assert price_is_valid(Decimal("1891.4"), ETH)
    assert not price_is_valid(Decimal("1891.45"), ETH)  # 6 significant figures
    assert not price_is_valid(Decimal("1.234"), ETH)  # 3 decimals, ETH allows 2
    assert price_is_valid(Decimal("1234567"), BTC)
    assert price_is_valid(Decimal("100.000"), ETH)  # trailing zeros are not figures
    assert not price_is_valid(Decimal(0), ETH)


def test_sizes_round_down_to_the_step() -> None:
    assert round_size(Decimal("0.123456789"), BTC) == Decimal("0.12345")
    assert round_size(Decimal("7.9"), DOGE) == Decimal(7)
    assert size_is_valid(Decimal("0.0147"), ETH)
    assert not size_is_valid(Decimal("0.01475"), ETH)
    assert not size_is_valid(Decimal(0), ETH)


def test_market_orders_are_limits_slipped_away_from_the_mid() -> None:
    assert worst_price(Decimal("2000"), "buy", ETH) == Decimal("2100")
    assert worst_price(Decimal("2000"), "sell", ETH) == Decimal("1900")
    # Rounded away from the mid: never a narrower allowance than asked for.
    buy = worst_price(Decimal("1891.43"), "buy", ETH)
    sell = worst_price(Decimal("1891.43"), "sell", ETH)
    assert buy == Decimal("1986.1") and buy >= Decimal("1891.43") * Decimal("1.05")
    assert sell == Decimal("1796.8") and sell <= Decimal("1891.43") * Decimal("0.95")


def test_check_order_refuses_before_signing() -> None:
    check_order(price=Decimal("2000"), size=Decimal("0.005"), reduce_only=False, rules=ETH)
    with pytest.raises(VenueError) as small:
        check_order(price=Decimal("2000"), size=Decimal("0.004"), reduce_only=False, rules=ETH)
    assert small.value.code == "VENUE_MIN_NOTIONAL"
    # Closing a small position is the venue's call, not ours.
    check_order(price=Decimal("2000"), size=Decimal("0.004"), reduce_only=True, rules=ETH)
    with pytest.raises(VenueError) as step:
        check_order(price=Decimal("2000"), size=Decimal("0.00001"), reduce_only=True, rules=ETH)
    assert step.value.code == "VENUE_PRECISION"
    with pytest.raises(VenueError) as tick:
        check_order(price=Decimal("2000.123"), size=Decimal("1"), reduce_only=False, rules=ETH)
    assert tick.value.code == "VENUE_PRECISION"


def test_nonces_are_the_time_until_two_land_in_one_millisecond() -> None:
    nonces = SignerNonces()
    assert nonces.next("0xAbC", 1000) == 1000
    assert nonces.next("0xabc", 1000) == 1001  # same signer, however spelled
    assert nonces.next("0xabc", 1000) == 1002
    assert nonces.next("0xdef", 1000) == 1000  # another signer counts on its own
    assert nonces.next("0xabc", 5000) == 5000
    assert nonces.next("0xabc", 4000) == 5001  # a clock stepping back never repeats one
