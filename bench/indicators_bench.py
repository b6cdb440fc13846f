"""Indicator throughput on a long candle series: ours against TA-Lib, in one run.

    .venv/bin/python bench/indicators_bench.py [--candles 1000000] [--repeat 7]

Each indicator runs ``--repeat`` times on the same random-walk candles and the best time is
kept (the least disturbed by other processes). The ratio is our time over TA-Lib's: above 1
means slower than the C reference. Prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import talib

from hyperoru.market import indicators, regime


@dataclass(frozen=True)
class Candles:
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


@dataclass(frozen=True)
class Case:
    name: str
    ours: Callable[[Candles], object]
    reference: Callable[[Candles], object] | None


CASES = (
    Case("SMA 20", lambda c: indicators.sma(c.close, 20), lambda c: talib.SMA(c.close, 20)),
    Case("EMA 20", lambda c: indicators.ema(c.close, 20), lambda c: talib.EMA(c.close, 20)),
    Case("RSI 14", lambda c: indicators.rsi(c.close, 14), lambda c: talib.RSI(c.close, 14)),
    Case(
        "MACD 12/26/9",
        lambda c: indicators.macd(c.close, 12, 26, 9),
        lambda c: talib.MACD(c.close, 12, 26, 9),
    ),
    Case(
        "Bollinger 20/2",
        lambda c: indicators.bollinger_bands(c.close, 20, 2.0),
        lambda c: talib.BBANDS(c.close, 20, 2.0, 2.0, talib.MA_Type.SMA),
    ),
    Case(
        "ATR 14",
        lambda c: indicators.atr(c.high, c.low, c.close, 14),
        lambda c: talib.ATR(c.high, c.low, c.close, 14),
    ),
    Case(
        "volume average 20",
        lambda c: indicators.volume_average(c.volume, 20),
        lambda c: talib.SMA(c.volume, 20),
    ),
    Case(
        "price change % 1",
        lambda c: indicators.price_change_pct(c.close, 1),
        lambda c: talib.ROC(c.close, 1),
    ),
    Case("market regime (all bars)", lambda c: regime.regime_codes(c.high, c.low, c.close), None),
)


def random_walk_candles(count: int, seed: int = 7) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, count)))
    wick = np.abs(rng.normal(0.0, 0.004, (2, count)))
    return Candles(
        high=close * (1.0 + wick[0]),
        low=close * (1.0 - wick[1]),
        close=close,
        volume=rng.lognormal(3.0, 1.0, count),
    )


def best_seconds(run: Callable[[Candles], object], candles: Candles, repeat: int) -> float:
    run(candles)  # first call pays for imports and page faults
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(candles)
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    candles = random_walk_candles(args.candles)

    print(
        f"{args.candles:,} candles, best of {args.repeat}; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, TA-Lib {talib.__version__}"
    )
    print()
    print("| indicator | ours ms | TA-Lib ms | ratio (ours / TA-Lib) | ours M candles/s |")
    print("|---|---:|---:|---:|---:|")
    for case in CASES:
        ours = best_seconds(case.ours, candles, args.repeat)
        throughput = args.candles / ours / 1e6
        if case.reference is None:
            print(f"| {case.name} | {ours * 1e3:.1f} | - | - | {throughput:.1f} |")
            continue
        reference = best_seconds(case.reference, candles, args.repeat)
        print(
            f"| {case.name} | {ours * 1e3:.1f} | {reference * 1e3:.1f} "
            f"| {ours / reference:.1f} | {throughput:.1f} |"
        )


if __name__ == "__main__":
    main()
