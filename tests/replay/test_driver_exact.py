"""The replay driver's own rules, on bars small enough to compute by hand (mutation
testing, scripts/mutation.py): how many rejections are kept, ..."""

from __future__ import annotations

from hyperoru.replay.driver import Replay
from tests.replay.candles import by_hand
from tests.replay.scripted import settings

FLAT = (100.0, 100.0, 100.0, 100.0)


def test_the_first_hundred_rejections_are_kept_and_every_one_is_counted() -> None:
    replay = Replay(settings(), {"BTC": by_hand([FLAT] * 101)})
    for i in range(101):
        replay.advance(i)
        replay.refuse(i, f"unusable answer {i}")
    result = replay.finish()
    assert [r["reason"] for r in result.rejections] == [f"unusable answer {i}" for i in range(100)]
    assert result.metrics["rejected_decisions"] == 101
    assert result.metrics["decisions"] == 101
