"""The parsing battery: every documented shape in, one normalised Decision out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.strategies.decision import Decision, DecisionParseError, parse_model_output

PROGRAM_SCHEMA = (
    '{"operation": "long", "symbol": "btc", "leverage": 3, "size_pct": 25,'
    ' "take_profit_pct": 5.0, "stop_loss_pct": 2.0, "reasoning": "RSI oversold"}'
)
CONCEPTS_SCHEMA = (
    '{"operation": "sell", "symbol": "ETH", "leverage": 2, "target_portion_of_balance": 0.4,'
    ' "max_price": 3100.5, "min_price": 3000, "take_profit_price": 2800,'
    ' "stop_loss_price": 3200, "reason": "rejected at resistance"}'
)


def test_program_schema() -> None:
    [decision] = parse_model_output(PROGRAM_SCHEMA)
    assert decision == Decision(
        operation="long",
        symbol="BTC",
        leverage=Decimal(3),
        size_fraction=Decimal("0.25"),
        take_profit_pct=Decimal("5.0"),
        stop_loss_pct=Decimal("2.0"),
        reasoning="RSI oversold",
    )


def test_concepts_schema() -> None:
    [decision] = parse_model_output(CONCEPTS_SCHEMA)
    assert decision.operation == "short"
    assert decision.size_fraction == Decimal("0.4")
    assert (decision.max_price, decision.min_price) == (Decimal("3100.5"), Decimal(3000))
    assert (decision.take_profit_price, decision.stop_loss_price) == (Decimal(2800), Decimal(3200))
    assert decision.reasoning == "rejected at resistance"


@pytest.mark.parametrize(
    "output",
    [
        f"```json\n{PROGRAM_SCHEMA}\n```",
        f"Here is my decision:\n```\n{PROGRAM_SCHEMA}\n```\nGood luck.",
        f"[{PROGRAM_SCHEMA}]",
        f'{{"decisions": [{PROGRAM_SCHEMA}]}}',
        f"  \n{PROGRAM_SCHEMA}\n  ",
    ],
)
def test_wrappings(output: str) -> None:
    [decision] = parse_model_output(output)
    assert decision.operation == "long" and decision.symbol == "BTC"


def test_several_decisions_keep_their_order() -> None:
    decisions = parse_model_output(
        f'{{"decisions": [{PROGRAM_SCHEMA}, {CONCEPTS_SCHEMA}, {{"operation": "hold"}}]}}'
    )
    assert [d.operation for d in decisions] == ["long", "short", "hold"]


def test_hold_needs_no_symbol_and_close_does() -> None:
    assert parse_model_output('{"operation": "HOLD"}') == [Decision(operation="hold")]
    with pytest.raises(DecisionParseError, match="symbol"):
        parse_model_output('{"operation": "close"}')


def test_decimals_are_exact() -> None:
    [decision] = parse_model_output('{"operation": "buy", "symbol": "SOL", "size_pct": 33.3}')
    assert decision.size_fraction == Decimal("0.333")


def test_out_of_range_values_are_kept_for_the_risk_rules_to_reject() -> None:
    [decision] = parse_model_output(
        '{"operation": "long", "symbol": "BTC", "leverage": 100, "size_pct": 150}'
    )
    assert decision.leverage == Decimal(100) and decision.size_fraction == Decimal("1.5")


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "no content"),
        ("   ", "no content"),
        ("I think you should buy BTC with 3x leverage", "not valid JSON"),
        ("operation: long, symbol: BTC", "not valid JSON"),
        ('{"operation": "long", "symbol": "BTC"', "not valid JSON"),
        ('```json\n{"operation": "hold"}', "not closed"),
        ('{"operation": "moon", "symbol": "BTC"}', "operation"),
        ('{"symbol": "BTC"}', "operation"),
        ('{"operation": "long", "symbol": "BTC", "leverage": "lots"}', "leverage"),
        ('{"operation": "long", "symbol": "BTC", "leverage": true}', "boolean"),
        ('{"operation": "long", "symbol": "BTC", "leverage": NaN}', "number"),
        ('{"operation": "long", "symbol": "BTC", "size_pct": Infinity}', "number"),
        ('{"operation": "long", "symbol": 7}', "symbol"),
        (
            '{"operation": "long", "symbol": "BTC", "size_pct": 5, '
            '"target_portion_of_balance": 0.5}',
            "not both",
        ),
        ("[1, 2]", "object"),
        ('"long"', "object"),
        ("[" + ",".join(['{"operation": "hold"}'] * 21) + "]", "at most"),
    ],
)
def test_failures_are_explained_never_guessed(output: str, reason: str) -> None:
    with pytest.raises(DecisionParseError, match=reason):
        parse_model_output(output)


def test_reasoning_only_content_is_a_failure() -> None:
    with pytest.raises(DecisionParseError):
        parse_model_output("<think>The market looks weak, RSI 28.</think>")
