"""Backtest throughput: one year of 1-minute candles (525,600) through an SMA-cross
program, our replay against backtesting.py on the same candles, in one run.

Ours is measured three ways: the replay loop alone (``should_trade`` on every candle, the
engine, metrics and fingerprint; timed inside ``backtest_runner``), the child's whole work
run in this process (plus decoding the bars, checking and loading the program, the
answer), and the whole sandboxed run (plus encoding the request, starting the process,
importing, transferring both ways). backtesting.py runs the same rule on the same candles
with the same sizes, no commission and no spread, and must find the same trades. The runs
are interleaved and each is timed by the wall clock and by CPU seconds (the sandboxed
run's CPU is this process's plus the child's): on a shared machine the CPU ratio moves
less with the load than the wall ratio. Prints a markdown table for bench/README.md.

    .venv/bin/python bench/backtest_bench.py [--candles 525600] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import resource
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


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def ours_in_process(bars: Bars) -> tuple[Timing, Timing, dict]:
    """(the replay loop alone, the child's whole work, the result)."""
    sys.path.insert(0, str(launcher.BACKTEST_RUNNER.parent))
    import backtest_runner  # the child's module, run in this process for timing

    raw = launcher._backtest_request(PROGRAM, {}, SETTINGS, {"BTC": bars})
    started, cpu = time.perf_counter(), time.process_time()
    request = backtest_runner.read_request(raw)
    with contextlib.redirect_stderr(io.StringIO()):  # its progress lines
        answer = backtest_runner._run(request)
    whole = (time.perf_counter() - started, time.process_time() - cpu)
    assert answer["status"] == "ok", answer
    timing = answer["timing"]
    return (timing["loop_seconds"], timing["loop_cpu_seconds"]), whole, answer["result"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ours_sandboxed(bars: Bars) -> tuple[Timing, dict]:
    """The whole run as the server makes it; CPU is this process's (encoding the request,
    reading the answer) plus the child's, counted when it is reaped."""

    async def run() -> tuple[launcher.SandboxResult, Timing]:
        box = launcher.Sandbox()
        await box.isolation()  # the one-off probe is not part of a run
        started, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        outcome = await box.run_backtest(PROGRAM, params={}, settings=SETTINGS, bars={"BTC": bars})
        wall = time.perf_counter() - started
        return outcome, (wall, time.process_time() - cpu + _children_cpu() - children)

    outcome, timing = asyncio.run(run())
    assert outcome.status == "ok", outcome.error
    return timing, outcome.result


def reference(bars: Bars) -> tuple[Timing, object]:
    started, cpu = time.perf_counter(), time.process_time()
    stats = sma_cross.run_reference(bars, FAST, SLOW)
    return (time.perf_counter() - started, time.process_time() - cpu), stats


def best(timings: list[Timing]) -> Timing:
    return min(t[0] for t in timings), min(t[1] for t in timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=525_600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bars = candles(args.candles)
    load_before = os.getloadavg()
    loops, children, sandboxed, theirs = [], [], [], []
    # Interleaved, so that a change of the machine's load touches every contestant.
    for _ in range(args.repeat):
        loop, child, result = ours_in_process(bars)
        loops.append(loop)
        children.append(child)
        whole, sandboxed_result = ours_sandboxed(bars)
        sandboxed.append(whole)
        assert sandboxed_result == result
        timing, stats = reference(bars)
        theirs.append(timing)
    reference_time = best(theirs)
    n = args.candles
    rows = [
        ("ours: the replay loop (should_trade on every candle, engine, metrics, fingerprint)",
         best(loops)),
        ("ours: the child's whole work, run in this process (+ decoding bars, loading the "
         "program)", best(children)),
        ("ours: the whole sandboxed run (+ encoding, process start, imports, transfer both "
         "ways)", best(sandboxed)),
        ("backtesting.py 0.6.6: `Backtest.run`", reference_time),
    ]  # fmt: skip
    load = " ".join(f"{x:.2f}" for x in load_before)
    print(
        f"{n} candles, best of {args.repeat}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load average {load} at the start, "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}"
    )
    print()
    print("| run | wall s | candles/s | × backtesting.py (wall) | CPU s | × backtesting.py (CPU) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (wall, cpu) in rows:
        print(
            f"| {name} | {wall:.2f} | {n / wall:,.0f} | {reference_time[0] / wall:.2f} "
            f"| {cpu:.2f} | {reference_time[1] / cpu:.2f} |"
        )
    print()
    print(
        f"trades: ours {result['metrics']['total_trades']} closed "
        f"(+{len(result['trades']) - result['metrics']['total_trades']} open), "
        f"backtesting.py {stats['# Trades']}; final equity: ours "
        f"{result['metrics']['final_equity']}, backtesting.py {stats['Equity Final [$]']:.8f}; "
        f"fingerprint {result['fingerprint']}"
    )


if __name__ == "__main__":
    main()
