"""nearest_valid_price always yields a price the venue checks accept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperoru.trading.engine.precision import is_valid_price, nearest_valid_price


@pytest.mark.parametrize(
    ("price", "sz_decimals", "expected"),
    [
        (Decimal("105123.45"), 5, Decimal("105123.45").quantize(Decimal(1))),
        (Decimal("3123.456"), 4, Decimal("3123.5")),
        (Decimal("0.123456789"), 0, Decimal("0.12346")),
        (Decimal("1.2345678"), 2, Decimal("1.2346")),
        (Decimal("0.00123456"), 2, Decimal("0.0012")),
        (Decimal("150"), 2, Decimal("150")),
    ],
)
def test_examples(price: Decimal, sz_decimals: int, expected: Decimal) -> None:
    assert nearest_valid_price(price, sz_decimals) == expected


@given(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**7), places=8),
    st.integers(min_value=0, max_value=5),
)
def test_always_valid_and_close(price: Decimal, sz_decimals: int) -> None:
    rounded = nearest_valid_price(price, sz_decimals)
    assert is_valid_price(rounded, sz_decimals)
    # Off by at most half a step of whichever rule binds: 5 figures or the decimal cap.
    half_figure = price * Decimal("0.00005")
    half_tick = Decimal(1).scaleb(-(6 - sz_decimals)) / 2
    assert abs(rounded - price) <= max(half_figure, half_tick)
