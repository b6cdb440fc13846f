"""Replays driven by a script of decisions per bar, for hand-computed tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hyperoru.replay.bars import Bars
from hyperoru.replay.decisions import read_decisions
from hyperoru.replay.driver import Replay, ReplayResult
from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decision import DecisionParseError

Script = Mapping[int, Sequence[Mapping[str, Any]]]


def settings(**overrides: Any) -> ReplaySettings:
    values: dict[str, Any] = {
        "symbols": ("BTC",),
        "interval": "1h",
        "initial_balance": Decimal(10000),
        "maker_fee_pct": Decimal(0),
        "taker_fee_pct": Decimal(0),
        "sz_decimals": {"BTC": 3},
        "asset_max_leverage": {"BTC": 20},
    }
    values.update(overrides)
    return ReplaySettings(**values)


def scripted(
    replay_settings: ReplaySettings,
    bars: Mapping[str, Bars] | Bars,
    script: Script,
    *,
    skip_quiet_bars: bool = True,
) -> tuple[ReplayResult, dict[int, list[dict[str, Any]]]]:
    """Run every bar; at bar ``i``'s close submit ``script[i]``. Returns the result and
    the outcomes per bar."""
    table = {bars.symbol: bars} if isinstance(bars, Bars) else dict(bars)
    replay = Replay(replay_settings, table, skip_quiet_bars=skip_quiet_bars)
    outcomes: dict[int, list[dict[str, Any]]] = {}
    for i in range(replay.bar_count):
        replay.advance(i)
        if replay.decides_at(i) and script.get(i):
            try:
                decisions = read_decisions(script[i])
            except DecisionParseError as exc:
                outcomes[i] = replay.refuse(i, str(exc))
                continue
            outcomes[i] = replay.submit(i, decisions)
    return replay.finish(), outcomes


def both_ways(
    replay_settings: ReplaySettings, bars: Mapping[str, Bars] | Bars, script: Script
) -> ReplayResult:
    """The replay with and without skipping quiet bars; they must agree exactly."""
    fast, _ = scripted(replay_settings, bars, script)
    strict, _ = scripted(replay_settings, bars, script, skip_quiet_bars=False)
    assert fast.to_plain() == strict.to_plain()
    return fast
