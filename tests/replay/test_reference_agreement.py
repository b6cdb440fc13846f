"""Agreement with an independent reference: the same moving-average cross on the same
candles, in our replay and in backtesting.py 0.6.6 (no commission, no spread, orders at
the next bar's open), gives the same trades and the same final equity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.replay.driver import run_replay
from tests.replay import sma_cross
from tests.replay.candles import MINUTE_MS, random_walk

FAST, SLOW = 10, 20
BARS = random_walk(4000, seed=11, step_ms=MINUTE_MS, volatility=0.002)
SETTINGS = sma_cross.ZERO_COST_MINUTES


def _iso(stamp: Any) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def reference() -> Any:
    return sma_cross.run_reference(BARS, FAST, SLOW)


def _assert_agrees(result: dict[str, Any], reference: Any) -> None:
    closed = [t for t in result["trades"] if t["exit_time"] is not None]
    theirs = reference._trades
    assert len(closed) == len(theirs) == reference["# Trades"] > 50
    for ours, (_, row) in zip(closed, theirs.iterrows(), strict=True):
        assert ours["side"] == "long" and Decimal(ours["quantity"]) == row.Size == 10
        assert (ours["entry_time"], ours["exit_time"]) == (_iso(row.EntryTime), _iso(row.ExitTime))
        assert float(ours["entry_price"]) == row.EntryPrice
        assert float(ours["exit_price"]) == row.ExitPrice
    # At most one trade is still open at the end, in both (its PnL is in the equity).
    assert len(result["trades"]) - len(closed) == int(bool(reference._strategy.position))
    final = float(result["metrics"]["final_equity"])
    assert abs(final - reference["Equity Final [$]"]) < 1e-6


def test_the_in_process_replay_agrees_with_backtesting_py(reference: Any) -> None:
    result = run_replay(SETTINGS, {"BTC": BARS}, sma_cross.decider(BARS, FAST, SLOW))
    _assert_agrees(result.to_plain(), reference)


async def test_the_sandboxed_program_agrees_with_backtesting_py(reference: Any) -> None:
    outcome = await Sandbox().run_backtest(
        sma_cross.program(FAST, SLOW), params={}, settings=SETTINGS, bars={"BTC": BARS}
    )
    assert outcome.status == "ok", outcome.error
    _assert_agrees(outcome.result, reference)
