"""Pinned known answers: the fingerprint and the whole result of two fixed backtests.

Any change to the replay, the engine, the sandbox's wire or the program API that moves a
single trade, price, fee or metric changes one of these digests. They were recorded
before the sandbox's transfer and per-bar path were made faster, and must not move
without a deliberate change of the rules (then say so in the commit).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from hyperoru.programs.sandbox.launcher import Sandbox
from tests.replay import sma_cross
from tests.replay.candles import MINUTE_MS, random_walk
from tests.replay.scripted import scripted, settings

SCRIPT = {
    3: [{"operation": "long", "symbol": "BTC", "size_pct": 40, "stop_loss_pct": 2}],
    40: [{"operation": "short", "symbol": "BTC", "size_pct": 60, "leverage": 3}],
    90: [{"operation": "close", "symbol": "BTC"}],
    120: [{"operation": "long", "symbol": "BTC", "size_pct": 80, "take_profit_pct": 3}],
}


def digest(plain: Any) -> str:
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()


def test_a_scripted_replay_gives_its_known_fingerprint_and_result() -> None:
    rules = settings(slippage_pct=Decimal("0.05"), taker_fee_pct=Decimal("0.045"))
    result, _ = scripted(rules, random_walk(300), SCRIPT)
    assert len(result.trades) == 3
    assert result.fingerprint == "a5b7bb49725d50a6ac2e62047d6b3e15bb0e25f2308725a54a99c783c83ce4b9"
    assert digest(result.to_plain()) == (
        "acdb4f4a11ddf0d4375550ed1bc02a487bceadc59c2a2ea514758aee269f9e33"
    )


async def test_a_sandboxed_program_backtest_gives_its_known_fingerprint_and_result() -> None:
    # The bench's rule and candles (20,000 of them): a program called on every minute.
    bars = random_walk(20_000, seed=42, step_ms=MINUTE_MS, volatility=0.001)
    outcome = await Sandbox().run_backtest(
        sma_cross.program(20, 50),
        params={},
        settings=sma_cross.ZERO_COST_MINUTES,
        bars={"BTC": bars},
    )
    assert outcome.status == "ok", outcome.error
    result = outcome.result
    assert result["metrics"]["total_trades"] == 211
    assert result["metrics"]["final_equity"] == "10037.20000000"
    assert result["fingerprint"] == (
        "5812254a131a8a5382ea68161bea0844daf7b216e735a14c888912b9e0fb6abd"
    )
    assert digest(result) == "cba63ab9187ad1e3dedeefbaa1bcc17669d89848b3f1c5471cb0e42da8c30b43"
