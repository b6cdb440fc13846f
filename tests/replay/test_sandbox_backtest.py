"""Whole backtests in one sandbox process: the same result as the in-process driver, the
same fingerprint on every run, clear errors, the wall clock, cancellation and progress.

These tests need no database: only the sandbox."""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from pathlib import Path

import pytest

from hyperoru.programs.sandbox.launcher import BACKTEST_LIMITS, Sandbox, SandboxLimits
from hyperoru.replay.driver import run_replay
from hyperoru.replay.settings import ReplaySettings
from tests.replay import sma_cross
from tests.replay.candles import random_walk

SETTINGS = ReplaySettings(
    symbols=("BTC",),
    interval="1h",
    slippage_pct=Decimal("0.05"),
    sz_decimals={"BTC": 0},
)
BARS = {"BTC": random_walk(1500)}
PROGRAM = sma_cross.program(10, 20)


async def test_a_backtest_in_the_sandbox_equals_the_in_process_replay() -> None:
    box = Sandbox()
    fractions: list[float] = []

    async def progress(fraction: float) -> None:
        fractions.append(fraction)

    first = await box.run_backtest(
        PROGRAM, params={}, settings=SETTINGS, bars=BARS, on_progress=progress
    )
    second = await box.run_backtest(PROGRAM, params={}, settings=SETTINGS, bars=BARS)
    assert first.status == "ok", first.error
    in_process = run_replay(SETTINGS, BARS, sma_cross.decider(BARS["BTC"], 10, 20))
    assert first.result == in_process.to_plain()
    assert first.result["metrics"]["total_trades"] >= 10
    assert second.result["fingerprint"] == first.result["fingerprint"]
    assert fractions and all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)


PEEKING = """
class Strategy:
    def should_trade(self, data):
        rows = data.get_klines("BTC", "1h", 3)
        if rows[-1]["close"] != data.get_price("BTC") or rows[-1]["time"] >= data.now:
            data.log("look-ahead", data.now)
        if data.now in ("2026-01-01T01:00:00Z", "2026-01-03T05:00:00Z"):
            data.log(data.now, len(rows), data.get_indicator("BTC", "sma", 10),
                     data.get_balance()["total"], data.trigger_type)
        return Decision("hold")
"""


async def test_the_program_sees_each_bar_and_nothing_after_it() -> None:
    outcome = await Sandbox().run_backtest(
        PEEKING,
        params={},
        settings=SETTINGS,
        bars={"BTC": random_walk(60)},
    )
    assert outcome.status == "ok", outcome.error
    assert not any("look-ahead" in line for line in outcome.logs)
    first, later = outcome.logs
    assert first == "2026-01-01T01:00:00Z 1 None 10000.0 scheduled"
    assert later.startswith("2026-01-03T05:00:00Z 3 ")
    assert outcome.result["trades"] == []


async def test_a_program_that_raises_fails_the_backtest_with_line_and_bar() -> None:
    code = """
class Strategy:
    def should_trade(self, data):
        if data.now == "2026-01-01T05:00:00Z":
            return 1 / 0
        return None
"""
    outcome = await Sandbox().run_backtest(code, params={}, settings=SETTINGS, bars=BARS)
    assert outcome.status == "error"
    assert outcome.error == (
        "ZeroDivisionError (line 5): division by zero at the decision of 2026-01-01T05:00:00Z"
    )


async def test_a_refused_program_or_decision_is_reported() -> None:
    box = Sandbox()
    refused = await box.run_backtest(
        "import os\nclass Strategy:\n    def should_trade(self, data):\n        return None\n",
        params={},
        settings=SETTINGS,
        bars=BARS,
    )
    assert refused.status == "error" and "import of 'os' is not allowed" in refused.error
    weird = await box.run_backtest(
        "class Strategy:\n    def should_trade(self, data):\n        return {1, 2}\n",
        params={},
        settings=SETTINGS,
        bars=BARS,
    )
    assert weird.status == "error"
    assert weird.error.startswith("ValueError: should_trade returned a set, not a Decision")


async def test_an_endless_program_is_stopped_by_the_wall_clock() -> None:
    limits = SandboxLimits(
        wall_seconds=2, cpu_seconds=30, memory_bytes=BACKTEST_LIMITS.memory_bytes
    )
    box = Sandbox(backtest_limits=limits)
    code = """
class Strategy:
    def should_trade(self, data):
        while True:
            pass
"""
    outcome = await box.run_backtest(code, params={}, settings=SETTINGS, bars=BARS)
    assert outcome.status == "timeout"
    assert outcome.error == "the program ran longer than 2 s and was stopped"


def _children() -> set[int]:
    """Processes whose parent is this test process."""
    mine = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                mine.add(int(entry.name))
    return mine


async def test_cancelling_the_task_kills_the_sandbox_process() -> None:
    code = """
class Strategy:
    def should_trade(self, data):
        if data.now >= "2026-01-03T00:00:00Z":
            while True:
                pass
        return None
"""
    box = Sandbox()
    await box.isolation()
    before = _children()
    started = asyncio.Event()

    async def progress(fraction: float) -> None:
        started.set()

    task = asyncio.create_task(
        box.run_backtest(code, params={}, settings=SETTINGS, bars=BARS, on_progress=progress)
    )
    await asyncio.wait_for(started.wait(), timeout=20)
    running = _children() - before
    assert running, "the sandbox process should be running"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Killed and reaped: not even a zombie is left.
    assert not (_children() & running)


SIGNAL_LOGGER = """
class Strategy:
    def should_trade(self, data):
        data.log(data.now, data.trigger_type, data.trigger["signal_pool_id"],
                 data.trigger["values"].get("note"))
        data.trigger["values"]["note"] = "changed by the program"
        return Decision("hold")
"""


@pytest.mark.parametrize("scheduled", [False, True])
async def test_replayed_signal_triggers_reach_the_program(scheduled: bool) -> None:
    bars = random_walk(12)
    fired = {bars.times[3]: "first", bars.times[8]: "second"}
    triggers = {
        t: {"type": "signal", "signal_pool_id": 5, "values": {"note": note}}
        for t, note in fired.items()
    }
    rules = ReplaySettings(
        symbols=("BTC",),
        interval="1h",
        decide_every=6,
        signal_triggers=triggers,
        scheduled=scheduled,
    )
    assert ReplaySettings.from_plain(rules.to_plain()) == rules
    outcome = await Sandbox().run_backtest(
        SIGNAL_LOGGER, params={}, settings=rules, bars={"BTC": bars}
    )
    assert outcome.status == "ok", outcome.error
    signal_lines = [
        "2026-01-01T04:00:00Z signal 5 first",
        "2026-01-01T09:00:00Z signal 5 second",
    ]
    if scheduled:
        # Every sixth bar as well (bars 5 and 11), seen as scheduled decisions.
        assert outcome.logs == [
            signal_lines[0],
            "2026-01-01T06:00:00Z scheduled None None",
            signal_lines[1],
            "2026-01-01T12:00:00Z scheduled None None",
        ]
    else:
        # Only the firings; and what the program wrote into one trigger stayed there.
        assert outcome.logs == signal_lines
