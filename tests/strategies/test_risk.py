"""Every risk rule rejects (never clamps) and says why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.strategies.decision import Decision
from hyperoru.strategies.risk import BookContext, TraderLimits, check

LIMITS = TraderLimits(
    symbols=frozenset({"BTC", "ETH"}),
    default_leverage=2,
    max_leverage=5,
    max_position_notional=Decimal(5000),
    max_open_positions=1,
)
FLAT = BookContext(
    available_balance=Decimal(10000),
    open_position_symbols=(),
    prices={"BTC": Decimal(100000), "ETH": Decimal(3000)},
)


def long(**fields: object) -> Decision:
    values: dict[str, object] = {
        "operation": "long",
        "symbol": "BTC",
        "size_fraction": Decimal("0.1"),
    }
    values.update(fields)
    return Decision(**values)  # type: ignore[arg-type]


def test_approved_decision_carries_leverage_and_notional() -> None:
    verdict = check(long(leverage=Decimal(3)), LIMITS, FLAT)
    assert verdict.approved and verdict.leverage == 3 and verdict.notional == Decimal(3000)


def test_default_leverage_applies_when_the_model_gives_none() -> None:
    verdict = check(long(), LIMITS, FLAT)
    assert verdict.approved and verdict.leverage == 2 and verdict.notional == Decimal(2000)


@pytest.mark.parametrize(
    ("decision", "reason"),
    [
        (long(symbol="DOGE"), "not in the trader's list"),
        (long(leverage=Decimal(100)), "exceeds the trader's limit of 5"),
        (long(leverage=Decimal("2.5")), "not a whole number"),
        (long(leverage=Decimal(0)), "below 1"),
        (long(size_fraction=Decimal("1.5")), "outside (0, 100]"),
        (long(size_fraction=Decimal(0)), "outside (0, 100]"),
        (long(size_fraction=Decimal("-0.1")), "outside (0, 100]"),
        (long(size_fraction=None), "no size"),
        (
            long(size_fraction=Decimal("0.5"), leverage=Decimal(2)),
            "exceeds the trader's limit of 5000",
        ),
        (Decision(operation="close", symbol="ETH"), "no open ETH position"),
    ],
)
def test_rejections(decision: Decision, reason: str) -> None:
    verdict = check(decision, LIMITS, FLAT)
    assert not verdict.approved
    assert reason in verdict.reason


def test_open_position_limit_counts_only_new_symbols() -> None:
    holding = BookContext(
        available_balance=Decimal(10000), open_position_symbols=("BTC",), prices=FLAT.prices
    )
    assert check(long(), LIMITS, holding).approved  # adding to BTC is not a new position
    rejected = check(long(symbol="ETH"), LIMITS, holding)
    assert not rejected.approved and "limit 1" in rejected.reason
    assert check(Decision(operation="close", symbol="BTC"), LIMITS, holding).approved


def test_hold_is_always_approved_and_executes_nothing() -> None:
    verdict = check(Decision(operation="hold"), LIMITS, FLAT)
    assert verdict.approved and verdict.leverage is None and verdict.notional is None
