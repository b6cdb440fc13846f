"""The expression language: what parses to what, and every refusal with its position."""

from __future__ import annotations

import numpy as np
import pytest

from hyperoru.factors.catalogue import BUILTINS, resolve_builtin
from hyperoru.factors.evaluate import evaluate
from hyperoru.factors.language import (
    MAX_COST,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    Binary,
    Call,
    FactorSyntaxError,
    Negate,
    Number,
    Series,
    cost,
    lookback,
    parse,
    to_text,
)
from tests.factors.data import random_bars


def test_precedence_and_associativity() -> None:
    assert parse("1 + 2 * 3") == Binary("+", Number(1), Binary("*", Number(2), Number(3)))
    assert parse("8 / 4 / 2") == Binary("/", Binary("/", Number(8), Number(4)), Number(2))
    assert parse("(1 + 2) * 3") == Binary("*", Binary("+", Number(1), Number(2)), Number(3))
    assert parse("10 - 3 - 2") == Binary("-", Binary("-", Number(10), Number(3)), Number(2))


def test_unary_minus_and_numbers() -> None:
    assert parse("-close") == Negate(Series("close"))
    assert parse("--2") == Number(2.0)
    assert parse("+close") == Series("close")
    assert parse("2 * -3") == Binary("*", Number(2), Number(-3))
    assert parse(".5 + 1e3 + 2.") == Binary(
        "+", Binary("+", Number(0.5), Number(1000.0)), Number(2.0)
    )


def test_functions_take_a_default_series_and_literal_parameters() -> None:
    assert parse("ema(20)") == Call("ema", (Series("close"),), (20.0,))
    assert parse("ema(close, 20)") == parse("ema(20)")
    assert parse("ema(rsi(14), 5)") == Call(
        "ema", (Call("rsi", (Series("close"),), (14.0,)),), (5.0,)
    )
    assert parse("rsi()") == Call("rsi", (Series("close"),), (14.0,))
    assert parse("macd_hist(12,26,9)") == Call("macd_hist", (Series("close"),), (12.0, 26.0, 9.0))
    assert parse("corr(close, volume, 20)") == Call(
        "corr", (Series("close"), Series("volume")), (20.0,)
    )
    # Two series of a bar-by-bar function; a number there is a constant series.
    assert parse("min(returns, 0)") == Call("min", (Series("returns"), Number(0.0)), ())


def test_the_documented_examples_parse() -> None:
    for text in (
        "roc(close, 10) * (volume / sma(volume, 20))",
        "ema(20) / ema(50) - 1",
        "sign(close - ema(200))",
        "normalize(rsi(14))",
        "std(returns, 20)",
        "vol(20) / vol(60)",
        "volume_change * momentum_1d",
        "volume_change * momentum_1d * 1.5",
    ):
        assert to_text(parse(text, resolve_builtin))


def test_builtin_names_inline_their_trees() -> None:
    tree = parse("momentum_1d * 2", resolve_builtin)
    assert tree == Binary("*", Call("roc", (Series("close"),), (24.0,)), Number(2.0))


def test_canonical_text_round_trips() -> None:
    for factor in BUILTINS:
        tree = parse(factor.expression)
        assert parse(to_text(tree)) == tree


def test_lookback_counts_nested_warmups() -> None:
    assert lookback(parse("close")) == 0
    assert lookback(parse("sma(close, 20)")) == 20
    assert lookback(parse("ema(sma(close, 20), 10)")) == 30
    assert lookback(parse("adx(14)")) == 29


REFUSED = [
    ("", "expression is empty", 0),
    ("close.__class__", "attribute access is not allowed", 5),
    ("__import__('os')", "names may not start with '_'", 0),
    ("close + __builtins__", "names may not start with '_'", 8),
    ("().__class__", "attribute access is not allowed", 2),
    ("exec(1)", "unknown function 'exec'", 0),
    ("eval(close)", "unknown function 'eval'", 0),
    ("open(1)", "unknown function 'open'", 0),
    ("foo", "unknown name 'foo'", 0),
    ("close + nope(1)", "unknown function 'nope'", 8),
    ("ema", "ema is a function: call it with ( )", 0),
    ("close[0]", "unexpected character '['", 5),
    ("close ** 2", "'**' is not an operator here", 6),
    ("lambda: 1", "unexpected character ':'", 6),
    ("lambda", "unknown name 'lambda'", 0),
    ("1e10", "constants must lie within ±1e+09", 0),
    ("-99999999999", "constants must lie within ±1e+09", 1),
    ("1" * 30, "number too long", 0),
    ("1e999", "constants must lie within ±1e+09", 0),
    ("ema(close, 0)", "ema(x1=close, n): n must be between 1 and 2000", 11),
    ("ema(close, 2.5)", "ema(x1=close, n): n must be a whole number of bars", 11),
    ("ema(close, 100000)", "ema(x1=close, n): n must be between 1 and 2000", 11),
    ("ema(close, volume)", "ema(x1=close, n): this argument must be a number", 11),
    ("ema(close)", "ema(x1=close, n): n is missing", 0),
    ("ema(close, 1, 2)", "ema(x1=close, n) takes at most 2 arguments", 14),
    ("corr(close, 5)", "corr(x1, x2, n): a series argument is missing", 0),
    ("(close", "missing ')'", 6),
    ("ema(close, 5", "missing ')' after the arguments of ema", 12),
    ("close +", "expression ends too early", 7),
    ("close close", "unexpected 'close'", 6),
    ("close; 1", "unexpected character ';'", 5),
    ("'a'", 'unexpected character "\'"', 0),
    ("close\x00", "unexpected character '\\x00'", 5),
]


@pytest.mark.parametrize(("text", "reason", "position"), REFUSED, ids=[r[0][:30] for r in REFUSED])
def test_refusals_name_the_mistake_and_its_position(text: str, reason: str, position: int) -> None:
    with pytest.raises(FactorSyntaxError) as caught:
        parse(text, resolve_builtin)
    assert caught.value.reason == reason
    assert caught.value.position == position


def test_bounds_on_size_depth_and_parts() -> None:
    with pytest.raises(FactorSyntaxError, match="longer than"):
        parse("close+" * 200 + "close")
    assert len("close+" * 200) > MAX_LENGTH
    with pytest.raises(FactorSyntaxError, match="nested deeper"):
        parse("(" * (MAX_DEPTH + 2) + "1" + ")" * (MAX_DEPTH + 2))
    with pytest.raises(FactorSyntaxError, match="nested deeper"):
        parse("-" * 200 + "1")
    with pytest.raises(FactorSyntaxError, match="nested deeper"):
        parse("abs(" * 40 + "close" + ")" * 40)
    with pytest.raises(FactorSyntaxError, match=f"more than {MAX_NODES} parts"):
        parse("+".join(["1"] * 400))
    # Built-in names count with their whole tree.
    with pytest.raises(FactorSyntaxError, match=f"more than {MAX_NODES} parts"):
        parse("+".join(["stoch_rsi"] * 40), resolve_builtin)


def test_work_is_bounded_however_the_windows_are_chosen() -> None:
    assert cost(parse("ema(close, 20) / ema(close, 20)")) == 20  # one distinct call
    assert cost(parse("hurst(close, 100) + sma(close, 50)")) == 450
    heavy = "+".join(f"hurst(close, {2000 - i})" for i in range(2))
    with pytest.raises(FactorSyntaxError, match="too costly") as caught:
        parse(heavy)
    assert caught.value.position == 0
    assert sum(cost(parse(f.expression)) for f in BUILTINS) < MAX_COST


def test_a_deep_but_allowed_expression_evaluates() -> None:
    text = "(" * MAX_DEPTH + "close" + ")" * MAX_DEPTH
    bars = random_bars(symbols=1, bars=10)
    np.testing.assert_array_equal(evaluate(parse(text), bars), bars.close)
