"""The evaluator on constructed paths whose crossing points are known by construction."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hyperoru.market import indicators
from hyperoru.signals.config import parse_config
from hyperoru.signals.evaluator import Frame, combine, evaluate, should_fire
from tests.signals.paths import OVERSOLD_PATH, UPTICK, candles


def spec(signal_type: str = "threshold", **config: Any):
    return parse_config(signal_type, config)


def frame(closes: Sequence[float], price: float | None = None, **kw: Any) -> Frame:
    return Frame(candles(closes, **kw), price)


def firing_points(signal, path: Sequence[float], warmup: int = 1) -> list[int]:
    """Indices ``i`` where the signal fires with closes ``path[:i]`` and live price
    ``path[i]`` (the path walked one bar at a time)."""
    return [i for i in range(warmup, len(path)) if evaluate(signal, frame(path[:i], path[i])).fired]


@pytest.mark.parametrize(
    ("operator", "price", "fired"),
    [
        (">", 101, True),
        (">", 100, False),
        ("<", 99, True),
        ("<", 100, False),
        (">=", 100, True),
        (">=", 99.5, False),
        ("<=", 100, True),
        ("<=", 100.5, False),
        ("==", 100, True),
        ("==", 100.01, False),
    ],
)
def test_each_comparison_against_a_number(operator: str, price: float, fired: bool) -> None:
    signal = spec(indicator="price", operator=operator, threshold=100)
    reading = evaluate(signal, frame([95, 97], price))
    assert reading.fired is fired
    assert reading.value == price and reading.threshold == 100


def test_direction_is_the_short_form_of_the_comparison() -> None:
    below = spec(indicator="price", direction="below", threshold=100)
    above = spec(indicator="price", direction="above", threshold=100)
    assert evaluate(below, frame([1], 99)).fired and not evaluate(above, frame([1], 99)).fired
    assert evaluate(above, frame([1], 101)).fired


def test_crossings_of_a_number_fire_only_on_the_crossing_bar() -> None:
    path = [90, 95, 99, 101, 103, 100, 98, 97, 102, 100]
    up = spec("crossover", indicator="price", operator="crosses_above", threshold=100)
    down = spec("crossover", indicator="price", operator="crosses_below", threshold=100)
    # Over 100 at index 3, and again at 8 after 6 went under; index 5 touches 100 without
    # crossing, and 9 comes back to 100, which is not below it.
    assert firing_points(up, path) == [3, 8]
    assert firing_points(down, path) == [6]
    assert evaluate(up, frame(path[:3], path[3])).previous == 99


def test_a_crossover_needs_a_previous_value() -> None:
    up = spec("crossover", indicator="price", operator="crosses_above", threshold=100)
    assert not evaluate(up, frame([], 150)).fired


def test_price_crosses_an_ema_where_the_path_breaks_through_it() -> None:
    # Flat at 100 for 60 bars puts EMA(50) exactly at 100; a bar at 90 drags the EMA just
    # below 100 but stays under it (crossing below), and a bar at 120 jumps over it.
    path = [100.0] * 60 + [90.0, 120.0, 121.0]
    up = spec("crossover", indicator="price", operator="crosses_above", threshold="ema_50")
    down = spec("crossover", indicator="price", operator="crosses_below", threshold="ema_50")
    assert firing_points(up, path, warmup=50) == [61]
    assert firing_points(down, path, warmup=50) == [60]
    reading = evaluate(up, frame(path[:61], path[61]))
    # the EMA now includes the 120 bar, still far below it
    assert reading.threshold is not None and 100 < reading.threshold < 120


def test_rsi_crosses_below_thirty_at_the_bar_wilder_smoothing_predicts() -> None:
    # After 15 rising bars (+1 each) the average gain is 1 and the loss 0; each falling bar
    # (-1) scales the gain by 13/14 and moves the loss towards 1, so the RSI is
    # 100 * (13/14)^k after k falls: below 30 first when k = 17.
    rise = [100.0 + i for i in range(16)]
    path = rise + [rise[-1] - k for k in range(1, 25)]
    first_k = math.ceil(math.log(0.3) / math.log(13 / 14))
    assert first_k == 17
    below = spec("crossover", indicator="rsi", period=14, operator="crosses_below", threshold=30)
    assert firing_points(below, path, warmup=15) == [15 + first_k]
    oversold = spec(indicator="rsi", period=14, operator="<", threshold=30)
    assert firing_points(oversold, path, warmup=15) == list(range(15 + first_k, len(path)))


@pytest.mark.parametrize("reference", ["sma_5", "ema_5", "bb_upper_5"])
def test_comparison_with_another_indicator_matches_the_indicator_module(reference: str) -> None:
    closes = [100, 102, 101, 105, 107, 104, 108, 111, 109]
    signal = spec(indicator="price", operator=">", threshold=reference)
    reading = evaluate(signal, frame(closes, 115))
    series = [*closes, 115]
    expected = {
        "sma_5": indicators.sma(series, 5),
        "ema_5": indicators.ema(series, 5),
        "bb_upper_5": indicators.bollinger_bands(series, 5).upper,
    }[reference][-1]
    assert reading.threshold == pytest.approx(expected, rel=1e-12)
    assert reading.fired is bool(expected < 115)


def test_volume_above_a_multiple_of_its_average() -> None:
    closes = [100.0] * 25
    calm = [10.0] * 24
    signal = spec(indicator="volume", operator=">", threshold="2x_avg")
    spike = evaluate(signal, frame(closes, 100, volumes=[*calm, 25.0]))
    assert spike.fired and spike.threshold == pytest.approx(20.0) and spike.value == 25.0
    assert not evaluate(signal, frame(closes, 100, volumes=[*calm, 15.0])).fired
    crossing = spec("crossover", indicator="volume", operator="crosses_above", threshold="1.5x_avg")
    assert evaluate(crossing, frame(closes, 100, volumes=[*calm, 16.0])).fired


def test_macd_crosses_its_signal_line_reference() -> None:
    path = [100.0] * 40 + [100.0 - k for k in range(1, 15)] + [90.0 + 3 * k for k in range(1, 8)]
    up = spec("crossover", indicator="macd", operator="crosses_above", threshold="macd_signal")
    points = firing_points(up, path, warmup=34)
    assert len(points) == 1 and points[0] > 54
    i = points[0]
    lines = indicators.macd(path[: i + 1])
    assert lines.macd[-2] <= lines.signal[-2] and lines.macd[-1] > lines.signal[-1]


def test_the_user_story_rsi_below_30_and_price_crossing_above_ema_50() -> None:
    oversold = spec(indicator="rsi", period=14, operator="<", threshold=30)
    breakout = spec("crossover", indicator="price", operator="crosses_above", threshold="ema_50")
    path = [*OVERSOLD_PATH, UPTICK]
    both = [
        i
        for i in range(60, len(path))
        if combine(
            "and", [evaluate(s, frame(path[:i], path[i])).fired for s in (oversold, breakout)]
        )
    ]
    assert both == [len(path) - 1]
    either = [
        i
        for i in range(60, len(path))
        if combine(
            "or", [evaluate(s, frame(path[:i], path[i])).fired for s in (oversold, breakout)]
        )
    ]
    assert len(either) > 1 and either[-1] == len(path) - 1


def test_patterns_from_the_allowlist() -> None:
    engulf = spec("pattern", pattern="bullish_engulfing")
    # a red candle (105 -> 100) swallowed by a green one (99 -> 107)
    assert evaluate(engulf, frame([105, 100, 107], 107, opens=[104, 105, 99])).fired
    assert not evaluate(engulf, frame([105, 100, 103], 103, opens=[104, 105, 101])).fired
    breakout = spec("pattern", pattern="breakout_high", lookback=5)
    assert evaluate(breakout, frame([100, 104, 102, 103, 101], 105)).fired
    assert not evaluate(breakout, frame([100, 104, 102, 103, 101], 104)).fired


def test_funding_rate_is_compared_as_a_snapshot() -> None:
    signal = spec(indicator="funding_rate", operator=">", threshold=0.0001)
    hot = Frame(candles([100]), 100, {"funding_rate": 0.0003})
    assert evaluate(signal, hot).fired
    assert not evaluate(signal, Frame(candles([100]), 100, {})).fired


def test_warm_up_never_fires() -> None:
    signal = spec(indicator="rsi", operator="<", threshold=101)
    reading = evaluate(signal, frame([100.0] * 5, 100))
    assert not reading.fired and reading.value is None


def test_and_needs_every_signal_or_needs_one() -> None:
    assert combine("and", [True, True]) and not combine("and", [True, False])
    assert combine("or", [False, True]) and not combine("or", [False, False])
    assert not combine("or", []) and not combine("and", [])


def test_edge_triggering_and_cooldown() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cooldown = timedelta(minutes=5)

    def fire(was: bool | None, is_: bool, last: datetime | None = None) -> bool:
        return should_fire(
            was_true=was, is_true=is_, last_fired_at=last, cooldown=cooldown, now=now
        )

    assert fire(False, True)
    assert not fire(True, True)  # still true: no new edge
    assert not fire(None, True)  # first observation is a baseline
    assert not fire(False, False)
    assert not fire(False, True, now - timedelta(minutes=4))
    assert fire(False, True, now - timedelta(minutes=5))
