"""``data.get_factor`` in a backtest: every built-in and the owner's custom factors,
computed on the backtest's own candles, the value at a bar reading that bar and earlier
ones only (a later candle changes later values, never this one's)."""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from decimal import Decimal

import numpy as np

from hyperoru.factors.catalogue import BUILTINS
from hyperoru.factors.lines import expression_line
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.replay.bars import Bars
from hyperoru.replay.settings import ReplaySettings
from tests.programs.programs import strategy
from tests.replay.candles import random_walk

CUSTOM = {"my_mix": "roc(close, 5) * volume / sma(volume, 20)", "my_broken": "nope(close)"}
SETTINGS = ReplaySettings(symbols=("BTC",), interval="1h", sz_decimals={"BTC": 3}, factors=CUSTOM)
BARS = random_walk(300, seed=17)
NAMES = [f.name for f in BUILTINS] + ["my_mix", "my_broken", "unknown"]
CHECKED_BARS = (60, 219, 299)
# Per bar a digest of every factor's value (the log is capped: the values themselves
# only at the checked bars); trades on one of them, so the fingerprint depends on them.
READ_ALL = strategy(
    f"values = [data.get_factor('BTC', n) for n in {NAMES!r}]\n"
    "data.log(repr(sum((k + 1) * v for k, v in enumerate(values) if v is not None)),\n"
    "         sum(1 for v in values if v is None))\n"
    f"if len(data.get_klines('BTC', '1h', 1000)) - 1 in {CHECKED_BARS!r}:\n"
    "    data.log(repr([values, data.get_factor('ETH', 'roc_5'),\n"
    "                   data.get_factor('btc', 'roc_5')]))\n"
    "mix = data.get_factor('BTC', 'my_mix')\n"
    "if mix is not None and mix > 0.002:\n"
    "    return Decision('long', 'BTC', size_pct=20)\n"
    "if mix is not None and mix < -0.002:\n"
    "    return Decision('close', 'BTC')\n"
    "return None"
)


async def _run(bars: Bars, settings: ReplaySettings = SETTINGS) -> tuple[list, str]:
    outcome = await Sandbox().run_backtest(
        READ_ALL, params={}, settings=settings, bars={"BTC": bars}
    )
    assert outcome.status == "ok", outcome.error
    return list(outcome.logs), outcome.result["fingerprint"]


def _digests(logs: list[str]) -> list[str]:
    return [line for line in logs if not line.startswith("[")]


def _values_at(logs: list[str]) -> dict[int, list]:
    shown = [ast.literal_eval(line) for line in logs if line.startswith("[")]
    return dict(zip(CHECKED_BARS, shown, strict=True))


def _changed_after(bars: Bars, cut: int) -> Bars:
    """The same candles up to ``cut``, then a crash with ten times the volume."""

    def tail(column: list[float], factor: float) -> list[float]:
        return column[:cut] + [round(v * factor, 2) for v in column[cut:]]

    return Bars(
        "BTC",
        list(bars.times),
        tail(list(bars.open), 0.5),
        tail(list(bars.high), 0.5),
        tail(list(bars.low), 0.5),
        tail(list(bars.close), 0.5),
        tail(list(bars.volume), 10.0),
    )


async def test_every_factor_at_a_bar_reads_only_that_bar_and_earlier() -> None:
    cut = 220
    logs, fingerprint = await _run(BARS)
    changed_logs, changed_fingerprint = await _run(_changed_after(BARS, cut))
    digests, changed = _digests(logs), _digests(changed_logs)
    assert len(digests) == len(changed) == len(BARS)
    # Identical up to the last bar before the change; the future changed later values.
    assert digests[:cut] == changed[:cut]
    assert all(a != b for a, b in zip(digests[cut + 1 :], changed[cut + 1 :], strict=True))
    assert changed_fingerprint != fingerprint
    assert _values_at(logs)[cut - 1] == _values_at(changed_logs)[cut - 1]
    # And each value is what the factor gives on the candles up to that bar alone.
    columns = {n: np.array(getattr(BARS, n)) for n in ("open", "high", "low", "close", "volume")}
    checked = 0
    for bar, (values, other_symbol, lower_case) in _values_at(logs).items():
        assert other_symbol is None and lower_case == values[NAMES.index("roc_5")]
        head = {n: column[: bar + 1] for n, column in columns.items()}
        for name, value in zip(NAMES, values, strict=True):
            expression = {f.name: f.expression for f in BUILTINS}.get(name, CUSTOM.get(name))
            if name in ("my_broken", "unknown"):
                assert value is None
                continue
            assert expression is not None
            expected = float(expression_line(expression, **head)[-1])
            if math.isfinite(expected):
                assert value == expected, (name, bar)
                checked += 1
            else:
                assert value is None, (name, bar)
    assert checked > 150  # most of the 64 built-ins have a value by bar 60


async def test_backtests_with_factors_rerun_to_the_same_fingerprint() -> None:
    first_logs, first = await _run(BARS)
    again_logs, again = await _run(BARS)
    assert first == again and first_logs == again_logs


async def test_no_factor_answers_while_the_engine_is_off() -> None:
    off = replace(SETTINGS, factors=None)
    logs, _ = await _run(BARS, off)
    assert all(v is None for line in _values_at(logs).values() for v in line[0])
    # Built-ins answer with no custom factor at all; a custom name then does not.
    builtins_only = replace(SETTINGS, factors={})
    logs, _ = await _run(BARS, builtins_only)
    last = _values_at(logs)[299][0]
    assert last[NAMES.index("roc_5")] is not None and last[NAMES.index("my_mix")] is None


def test_the_factors_survive_the_settings_round_trip() -> None:
    plain = SETTINGS.to_plain()
    assert plain["factors"] == CUSTOM
    assert ReplaySettings.from_plain(plain).factors == CUSTOM
    assert ReplaySettings.from_plain({**plain, "factors": None}).factors is None
    legacy = {k: v for k, v in plain.items() if k != "factors"}
    assert ReplaySettings.from_plain(legacy).factors is None
    assert SETTINGS.slippage_pct == Decimal(0)
