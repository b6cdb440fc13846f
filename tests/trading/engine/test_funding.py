"""Hourly funding: size * mark * hourly rate; longs pay a positive rate, shorts receive it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hyperoru.trading.engine import (
    AccountState,
    FundingPaid,
    Position,
    on_market,
)
from tests.trading.engine.kit import CONFIG, T0, D, at, quoted


def _holding(size: str, *, opened_minutes: int = -30) -> AccountState:
    position = Position(
        "BTC", D(size), D(50000), 5, D(50000), T0 + timedelta(minutes=opened_minutes)
    )
    return AccountState(cash=D(10000), positions=(position,), funding_settled_at=T0)


def _payments(result) -> list[tuple]:
    return [(e.time, e.payment) for e in result.events if isinstance(e, FundingPaid)]


def test_long_pays_a_positive_rate() -> None:
    result = on_market(
        _holding("0.5"), quoted(50000, funding_rate="0.0001"), config=CONFIG, now=at(60)
    )
    assert _payments(result) == [(at(60), D("2.5"))]  # 0.5 * 50000 * 0.01%
    assert result.state.cash == D("9997.5")
    assert result.state.funding_settled_at == at(60)


def test_short_receives_a_positive_rate() -> None:
    result = on_market(
        _holding("-0.5"), quoted(50000, funding_rate="0.0001"), config=CONFIG, now=at(60)
    )
    assert _payments(result) == [(at(60), D("-2.5"))]
    assert result.state.cash == D("10002.5")


def test_long_receives_a_negative_rate_at_the_current_mark() -> None:
    result = on_market(
        _holding("0.5"), quoted(52000, funding_rate="-0.00002"), config=CONFIG, now=at(75)
    )
    assert _payments(result) == [(at(60), D("-0.52"))]  # 0.5 * 52000 * -0.002%


def test_every_missed_hour_is_settled_once_in_order() -> None:
    result = on_market(
        _holding("1"), quoted(50000, funding_rate="0.00001"), config=CONFIG, now=at(190)
    )
    assert _payments(result) == [(at(60), D("0.5")), (at(120), D("0.5")), (at(180), D("0.5"))]
    again = on_market(
        result.state, quoted(50000, funding_rate="0.00001"), config=CONFIG, now=at(200)
    )
    assert _payments(again) == []


@pytest.mark.parametrize("opened_minutes", [60, 61])
def test_a_position_opened_at_or_after_the_hour_does_not_pay_for_it(opened_minutes: int) -> None:
    state = _holding("1", opened_minutes=opened_minutes)
    result = on_market(state, quoted(50000, funding_rate="0.0001"), config=CONFIG, now=at(62))
    assert _payments(result) == []
    assert result.state.funding_settled_at == at(60)


def test_the_first_snapshot_only_starts_the_clock() -> None:
    state = AccountState(cash=D(10000), positions=_holding("1").positions)
    result = on_market(state, quoted(50000, funding_rate="0.0001"), config=CONFIG, now=at(130))
    assert _payments(result) == []
    assert result.state.funding_settled_at == at(120)


def test_no_rate_means_no_payment() -> None:
    result = on_market(_holding("1"), quoted(50000), config=CONFIG, now=at(60))
    assert _payments(result) == []
    assert result.state.cash == D(10000)
