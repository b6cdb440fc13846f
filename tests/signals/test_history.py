"""Signal pools replayed over past candles (backtests), on paths with known crossings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hyperoru.signals.history import PoolSnapshot, merged_needs, replay_firings
from tests.signals.paths import OVERSOLD_PATH, T0, UPTICK, candles

HOUR = timedelta(hours=1)


def pool(
    signals: Sequence[tuple[str, dict[str, Any]]],
    *,
    pool_id: int = 1,
    logic: str = "and",
    cooldown_seconds: int = 0,
    symbols: Sequence[str] = ("BTC",),
) -> PoolSnapshot:
    return PoolSnapshot(
        pool_id=pool_id,
        name=f"pool {pool_id}",
        logic=logic,
        cooldown_seconds=cooldown_seconds,
        symbols=tuple(symbols),
        signals=tuple(
            {"id": n + 1, "name": f"s{n + 1}", "type": kind, "config": config}
            for n, (kind, config) in enumerate(signals)
        ),
    )


def closes_at(path: Sequence[float], step: timedelta = HOUR) -> list[datetime]:
    """Every candle's close time: one decision per closed candle."""
    return [T0 + (i + 1) * step for i in range(len(path))]


PRICE_ABOVE_100 = ("threshold", {"indicator": "price", "operator": ">", "threshold": 100})


def test_a_threshold_fires_on_the_candle_that_crosses_it_and_only_then() -> None:
    path = [98, 99, 101, 102, 99, 97, 103, 104]
    firings = replay_firings(
        [pool([PRICE_ABOVE_100])], {("BTC", "1h"): candles(path)}, closes_at(path)
    )
    # Edge-triggered: true from index 2 (101) and again from index 6 (103).
    assert sorted(firings) == [2, 6]
    trigger = firings[2]
    assert trigger["type"] == "signal" and trigger["signal_pool_id"] == 1
    (entry,) = trigger["values"]["signals"]
    assert entry["symbol"] == "BTC" and entry["value"] == 101 and entry["threshold_value"] == 100


def test_the_first_evaluation_is_only_a_baseline() -> None:
    path = [101, 102, 103]
    assert (
        replay_firings([pool([PRICE_ABOVE_100])], {("BTC", "1h"): candles(path)}, closes_at(path))
        == {}
    )


def test_cooldown_suppresses_a_second_firing_inside_it() -> None:
    path = [98, 101, 99, 102, 99, 103]
    data = {("BTC", "1h"): candles(path)}
    assert sorted(replay_firings([pool([PRICE_ABOVE_100])], data, closes_at(path))) == [1, 3, 5]
    cooled = pool([PRICE_ABOVE_100], cooldown_seconds=3 * 3600)
    # Fired at index 1; index 3 is two hours later (inside), index 5 four hours (outside).
    assert sorted(replay_firings([cooled], data, closes_at(path))) == [1, 5]


def test_the_user_story_pool_fires_on_the_uptick_with_its_values() -> None:
    path = [*OVERSOLD_PATH, UPTICK]
    story = pool(
        [
            ("threshold", {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30}),
            (
                "crossover",
                {"indicator": "price", "operator": "crosses_above", "threshold": "ema_50"},
            ),
        ],
        symbols=("BTC", "ETH"),
    )
    data = {("BTC", "1h"): candles(path), ("ETH", "1h"): candles([100.0] * len(path))}
    firings = replay_firings([story], data, closes_at(path))
    assert sorted(firings) == [len(path) - 1]
    values = firings[len(path) - 1]["values"]
    assert values["symbols"] == ["BTC"]
    assert {e["name"] for e in values["signals"]} == {"s1", "s2"}


def test_and_needs_every_signal_or_needs_one() -> None:
    path = [98, 101, 102, 99, 101]
    volumes = [1, 1, 5, 1, 1]
    loud = ("threshold", {"indicator": "volume", "operator": ">", "threshold": 3})
    data = {("BTC", "1h"): candles(path, volumes=volumes)}
    both = replay_firings([pool([PRICE_ABOVE_100, loud])], data, closes_at(path))
    either = replay_firings([pool([PRICE_ABOVE_100, loud], logic="or")], data, closes_at(path))
    assert sorted(both) == [2]  # price above 100 and volume 5 only at index 2
    assert sorted(either) == [1, 4]  # turns true at 1 (price), stays true at 2, again at 4


def test_decisions_between_candles_read_the_last_closed_one() -> None:
    """A 15-minute backtest over a 1-hour signal: the pool can only change when an hourly
    candle closes, and fires at the first decision at or after that close."""
    hourly = [98, 101, 99]
    decisions = [T0 + timedelta(minutes=15 * (k + 1)) for k in range(12)]
    firings = replay_firings([pool([PRICE_ABOVE_100])], {("BTC", "1h"): candles(hourly)}, decisions)
    # Candle 1 (101) closes at 02:00: the 8th decision (index 7).
    assert sorted(firings) == [7]


def test_several_pools_at_one_bar_give_the_lowest_pool_id() -> None:
    path = [98, 101]
    data = {("BTC", "1h"): candles(path)}
    firings = replay_firings(
        [pool([PRICE_ABOVE_100], pool_id=7), pool([PRICE_ABOVE_100], pool_id=3)],
        data,
        closes_at(path),
    )
    assert firings[1]["signal_pool_id"] == 3


def test_snapshots_round_trip_and_say_what_candles_they_need() -> None:
    story = pool(
        [
            ("threshold", {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30}),
            (
                "threshold",
                {"indicator": "price", "operator": ">", "threshold": 1, "interval": "4h"},
            ),
        ],
        symbols=("BTC", "ETH"),
    )
    assert PoolSnapshot.from_plain(story.to_plain()) == story
    needs = merged_needs([story])
    assert set(needs) == {("BTC", "1h"), ("ETH", "1h"), ("BTC", "4h"), ("ETH", "4h")}
    assert needs[("BTC", "1h")] >= 14
