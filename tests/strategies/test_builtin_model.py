"""The offline ``builtin`` model: its published rules, its JSON, and its fit with the
strict parser and the risk rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.strategies.decision import parse_model_output
from hyperoru.strategies.llm.base import (
    LlmError,
    LlmErrorKind,
    LlmRequest,
    ModelContext,
    PositionSide,
    SymbolFacts,
)
from hyperoru.strategies.llm.builtin import (
    DEFAULT_RULES,
    DEMO_MODEL_NAME,
    DEMO_RULES,
    MODEL_NAME,
    BuiltinModel,
    rules_for_model,
)
from hyperoru.strategies.risk import BookContext, TraderLimits, check


def zigzag(up: float, down: float, bars: int = 120, start: float = 1000.0) -> tuple[float, ...]:
    """Steps of +up then -down: a trend with pullbacks, RSI near 100*up/(up+down)."""
    closes, price = [], start
    for i in range(bars):
        price += up if i % 2 == 0 else -down
        closes.append(price)
    return tuple(closes)


RISING = zigzag(3, 2)  # trend up, RSI about 60: a long entry
FALLING = zigzag(-3, -2)  # trend down, RSI about 40: a short entry
STRAIGHT_UP = tuple(1000.0 + i for i in range(120))  # RSI 100: overbought


def context(
    *facts: tuple[str, tuple[float, ...], PositionSide | None],
    default_leverage: int = 3,
    max_leverage: int = 5,
    max_open_positions: int | None = None,
    open_positions: int = 0,
) -> ModelContext:
    return ModelContext(
        symbols=tuple(
            SymbolFacts(symbol, Decimal(str(closes[-1])), closes, side)
            for symbol, closes, side in facts
        ),
        default_leverage=default_leverage,
        max_leverage=max_leverage,
        max_open_positions=max_open_positions,
        open_positions=open_positions,
    )


async def ask(ctx: ModelContext) -> list:
    response = await BuiltinModel().complete(LlmRequest(prompt="ignored", context=ctx))
    assert response.model == MODEL_NAME and response.usage.total_tokens == 0
    return parse_model_output(response.text)


async def test_entries_follow_trend_and_rsi_band() -> None:
    long, short = await ask(context(("BTC", RISING, None), ("ETH", FALLING, None)))
    assert (long.operation, long.symbol) == ("long", "BTC")
    assert (short.operation, short.symbol) == ("short", "ETH")
    for decision in (long, short):
        assert decision.leverage == Decimal(3)
        assert decision.size_fraction == Decimal("0.1")
        assert (decision.stop_loss_pct, decision.take_profit_pct) == (Decimal(2), Decimal(4))
        assert "RSI14" in decision.reasoning


async def test_overbought_trend_is_not_chased_and_is_exited() -> None:
    [flat] = await ask(context(("BTC", STRAIGHT_UP, None)))
    assert flat.operation == "hold" and "no entry signal" in flat.reasoning
    [held] = await ask(context(("BTC", STRAIGHT_UP, "long")))
    assert held.operation == "close" and "take the profit" in held.reasoning


async def test_positions_are_closed_when_the_trend_turns_and_kept_otherwise() -> None:
    against_long, against_short, keep = await ask(
        context(("BTC", FALLING, "long"), ("ETH", RISING, "short"), ("SOL", RISING, "long"))
    )
    assert (against_long.operation, against_short.operation) == ("close", "close")
    assert "trend no longer" in against_long.reasoning
    assert keep.operation == "hold" and "keep the long" in keep.reasoning


async def test_not_enough_history_holds() -> None:
    [decision] = await ask(context(("BTC", RISING[:49], None)))
    assert decision.operation == "hold" and "not enough data" in decision.reasoning


async def test_open_position_limit_counts_its_own_entries() -> None:
    decisions = await ask(
        context(
            ("BTC", RISING, None),
            ("ETH", RISING, None),
            ("SOL", FALLING, None),
            max_open_positions=3,
            open_positions=1,
        )
    )
    assert [d.operation for d in decisions] == ["long", "long", "hold"]
    assert "open-position limit" in decisions[2].reasoning


async def test_leverage_never_exceeds_the_traders_maximum() -> None:
    [decision] = await ask(context(("BTC", RISING, None), default_leverage=8, max_leverage=4))
    assert decision.leverage == Decimal(4)


async def test_deterministic() -> None:
    ctx = context(("BTC", RISING, None), ("ETH", FALLING, "short"))
    model = BuiltinModel()
    first = await model.complete(LlmRequest(prompt="a", context=ctx))
    second = await model.complete(LlmRequest(prompt="b", context=ctx))
    assert first.text == second.text


async def test_its_entries_pass_the_risk_rules() -> None:
    decisions = await ask(context(("BTC", RISING, None), ("ETH", FALLING, None)))
    limits = TraderLimits(
        symbols=frozenset({"BTC", "ETH"}),
        default_leverage=3,
        max_leverage=5,
        max_position_notional=None,
        max_open_positions=None,
    )
    book = BookContext(
        available_balance=Decimal(10000),
        open_position_symbols=(),
        prices={"BTC": Decimal(1000), "ETH": Decimal(1000)},
    )
    verdicts = [check(d, limits, book) for d in decisions]
    assert all(v.approved for v in verdicts), verdicts
    assert [v.leverage for v in verdicts] == [3, 3]


async def test_without_context_it_refuses() -> None:
    with pytest.raises(LlmError) as caught:
        await BuiltinModel().complete(LlmRequest(prompt="Decide."))
    assert caught.value.kind is LlmErrorKind.MISCONFIGURED


def test_demo_rules_are_chosen_by_model_name_and_nothing_else() -> None:
    assert rules_for_model(DEMO_MODEL_NAME) is DEMO_RULES
    for other in (None, "", MODEL_NAME, "gpt-4o"):
        assert rules_for_model(other) is DEFAULT_RULES
    assert BuiltinModel(DEMO_RULES).model_name == DEMO_MODEL_NAME
    assert BuiltinModel().model_name == MODEL_NAME


async def test_demo_rules_read_minute_closes_and_exit_on_tight_stops() -> None:
    minutes = zigzag(3, 2, bars=20)
    facts = SymbolFacts("BTC", Decimal(str(minutes[-1])), (), None, closes_1m=minutes)
    ctx = ModelContext(
        (facts,), default_leverage=2, max_leverage=3, max_open_positions=None, open_positions=0
    )
    response = await BuiltinModel(DEMO_RULES).complete(LlmRequest(prompt="x", context=ctx))
    [entry] = parse_model_output(response.text)
    assert response.model == DEMO_MODEL_NAME
    assert (entry.operation, entry.leverage, entry.size_fraction) == ("long", 2, Decimal("0.1"))
    assert (entry.stop_loss_pct, entry.take_profit_pct) == (Decimal("0.3"), Decimal("0.4"))
    assert "EMA5" in entry.reasoning and "RSI7" in entry.reasoning
    # The default rules ignore minute closes: with no hourly history they wait.
    [waiting] = await ask(ctx)
    assert waiting.operation == "hold" and "hourly closes" in waiting.reasoning
    # And the demo rules wait without minute closes.
    hourly_only = ModelContext((SymbolFacts("BTC", Decimal(1000), RISING, None),), 2, 3, None, 0)
    [none] = parse_model_output(
        (await BuiltinModel(DEMO_RULES).complete(LlmRequest("x", context=hourly_only))).text
    )
    assert none.operation == "hold" and "minute closes" in none.reasoning
