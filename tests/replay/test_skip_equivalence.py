"""Skipping quiet bars is exact: calling the engine only where something can happen gives
the same trades, fingerprint, curve and metrics as calling it at every point of every
bar, on random price paths and random decisions (triggers, flips, leverage up to
liquidation, funding, funding hours inside 4h and 1d bars, two symbols)."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperoru.replay.bars import Bars
from hyperoru.replay.settings import INTERVAL_MINUTES
from tests.replay.candles import MINUTE_MS, random_walk
from tests.replay.scripted import scripted
from tests.replay.scripted import settings as replay_settings

OPERATIONS = ("long", "short", "close", "hold")


def _with_funding(bars: Bars, rng: random.Random) -> Bars:
    rates = [rng.choice((None, 0.0001, -0.0002, 0.0005)) for _ in bars.times]
    return Bars(
        bars.symbol, bars.times, bars.open, bars.high, bars.low, bars.close, bars.volume, rates
    )


def _script(rng: random.Random, symbols: tuple[str, ...], count: int) -> dict[int, list]:
    script: dict[int, list] = {}
    for i in range(count):
        if rng.random() > 0.15:
            continue
        decision: dict = {"operation": rng.choice(OPERATIONS), "symbol": rng.choice(symbols)}
        if decision["operation"] in ("long", "short"):
            decision["size_pct"] = rng.choice((5, 20, 50, 100))
            decision["leverage"] = rng.choice((1, 3, 10, 10))
            if rng.random() < 0.3:
                decision["stop_loss_pct"] = rng.choice((0.5, 1, 2, 5))
            if rng.random() < 0.5:
                decision["take_profit_pct"] = rng.choice((0.5, 1, 3))
        script[i] = [decision]
    return script


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    two_symbols=st.booleans(),
    funding=st.booleans(),
    interval=st.sampled_from(("1h", "4h", "1d")),
)
def test_skipping_quiet_bars_changes_nothing(
    seed: int, two_symbols: bool, funding: bool, interval: str
) -> None:
    rng = random.Random(seed)
    count = 150
    symbols = ("BTC", "ETH") if two_symbols else ("BTC",)
    table = {}
    for k, symbol in enumerate(symbols):
        bars = random_walk(
            count,
            seed=seed + k,
            symbol=symbol,
            volatility=0.03,
            gap=0.01,
            step_ms=INTERVAL_MINUTES[interval] * MINUTE_MS,
        )
        table[symbol] = _with_funding(bars, rng) if funding else bars
    rules = replay_settings(
        symbols=symbols,
        interval=interval,
        slippage_pct=Decimal(rng.choice(("0", "0.05"))),
        taker_fee_pct=Decimal("0.045"),
        sz_decimals={s: 2 for s in symbols},
        asset_max_leverage={s: 10 for s in symbols},
    )
    script = _script(rng, symbols, count)
    skipping, _ = scripted(rules, table, script)
    every_point, _ = scripted(rules, table, script, skip_quiet_bars=False)
    assert skipping.to_plain() == every_point.to_plain()
