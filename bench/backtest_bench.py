"""Backtest throughput: one year of 1-minute candles (525,600) through an SMA-cross
program, our replay against backtesting.py on the same candles, in one run.

Ours is measured three ways: the replay loop alone (``should_trade`` on every candle, the
engine, metrics and fingerprint; timed inside ``backtest_runner``), the child's whole work
run in this process (plus decoding the bars, checking and loading the program, the
answer), and the whole sandboxed run (plus encoding the request, starting the process,
importing, transferring both ways). backtesting.py runs the same rule on the same candles
with the same sizes, no commission and no spread, and must find the same trades.
Prints a markdown table for bench/README.md.

    .venv/bin/python bench/backtest_bench.py [--candles 525600] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from hyperoru.programs.sandbox import launcher
from hyperoru.replay.bars import Bars

# The strategy and candles are the agreement test's, so bench and test measure one thing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.replay import sma_cross
from tests.replay.candles import MINUTE_MS, random_walk

FAST, SLOW = 20, 50
PROGRAM = sma_cross.program(FAST, SLOW)


def candles(count: int) -> Bars:
    return random_walk(count, seed=42, step_ms=MINUTE_MS, volatility=0.001)


SETTINGS = sma_cross.ZERO_COST_MINUTES


def ours_in_process(bars: Bars) -> tuple[float, float, dict]:
    """(seconds of the replay loop alone, of the child's whole work, the result)."""
    sys.path.insert(0, str(launcher.BACKTEST_RUNNER.parent))
    import backtest_runner  # the child's module, run in this process for timing

    raw = launcher._backtest_request(PROGRAM, {}, SETTINGS, {"BTC": bars})
    started = time.perf_counter()
    request = backtest_runner.read_request(raw)
    with contextlib.redirect_stderr(io.StringIO()):  # its progress lines
        answer = backtest_runner._run(request)
    elapsed = time.perf_counter() - started
    assert answer["status"] == "ok", answer
    return answer["timing"]["loop_seconds"], elapsed, answer["result"]


def ours_sandboxed(bars: Bars) -> tuple[float, dict]:
    async def run() -> launcher.SandboxResult:
        box = launcher.Sandbox()
        await box.isolation()  # the one-off probe is not part of a run
        started = time.perf_counter()
        outcome = await box.run_backtest(PROGRAM, params={}, settings=SETTINGS, bars={"BTC": bars})
        return outcome, time.perf_counter() - started

    outcome, elapsed = asyncio.run(run())
    assert outcome.status == "ok", outcome.error
    return elapsed, outcome.result


def reference(bars: Bars) -> tuple[float, object]:
    started = time.perf_counter()
    stats = sma_cross.run_reference(bars, FAST, SLOW)
    return time.perf_counter() - started, stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=525_600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bars = candles(args.candles)
    in_process = [ours_in_process(bars) for _ in range(args.repeat)]
    ours_loop = min(r[0] for r in in_process)
    ours_child = min(r[1] for r in in_process)
    runs = [ours_sandboxed(bars) for _ in range(args.repeat)]
    ours_whole = min(r[0] for r in runs)
    result = runs[0][1]
    theirs = [reference(bars) for _ in range(args.repeat)]
    theirs_time = min(t[0] for t in theirs)
    stats = theirs[0][1]
    n = args.candles
    rows = [
        ("ours: the replay loop (should_trade on every candle, engine, metrics, fingerprint)",
         ours_loop),
        ("ours: the child's whole work, run in this process (+ decoding bars, loading the "
         "program)", ours_child),
        ("ours: the whole sandboxed run (+ encoding, process start, imports, transfer both "
         "ways)", ours_whole),
        ("backtesting.py 0.6.6: `Backtest.run`", theirs_time),
    ]  # fmt: skip
    print(
        f"{n} candles, best of {args.repeat}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}"
    )
    print()
    print("| run | seconds | candles/s |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} |")
    print()
    print(
        f"trades: ours {result['metrics']['total_trades']} closed "
        f"(+{len(result['trades']) - result['metrics']['total_trades']} open), "
        f"backtesting.py {stats['# Trades']}; final equity: ours "
        f"{result['metrics']['final_equity']}, backtesting.py {stats['Equity Final [$]']:.8f}"
    )


if __name__ == "__main__":
    main()
