"""What one evaluator tick costs: every pool's signals on every symbol, pure evaluation.

    .venv/bin/python bench/signals_bench.py [--pools 200] [--symbols 10] [--repeat 7]

Mirrors a runtime tick after its candles are loaded: one ``Frame`` per symbol and interval
(shared by every pool that reads it), then each pool's signals evaluated and combined.
Each pool holds the issue's example, "RSI(14) < 30 AND price crosses above EMA(50)", plus a
volume spike (``volume > 2x_avg``), so a tick computes RSI, EMA and a volume average per
symbol once and reads them 3 x pools times. Best of ``--repeat``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hyperoru.market.providers.base import Candle
from hyperoru.signals.config import SignalSpec, parse_config
from hyperoru.signals.evaluator import Frame, combine, evaluate


def pool_signals(n: int) -> tuple[SignalSpec, ...]:
    """Pool ``n``'s signals; ``n`` = 0 for all gives every pool the same three."""
    return (
        parse_config(
            "threshold", {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30 - n}
        ),
        parse_config(
            "crossover",
            {"indicator": "price", "operator": "crosses_above", "threshold": f"ema_{50 + n}"},
        ),
        parse_config(
            "threshold",
            {"indicator": "volume", "operator": ">", "threshold": f"{2 + n / 10:g}x_avg"},
        ),
    )


def candles(seed: int, count: int) -> list[Candle]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    price, rows = 100.0, []
    for n in range(count):
        close = price * (1 + rng.gauss(0, 0.004))
        high, low = max(price, close) * 1.001, min(price, close) * 0.999
        rows.append(
            Candle(
                open_time=start + timedelta(hours=n),
                open=Decimal(f"{price:.6f}"),
                high=Decimal(f"{high:.6f}"),
                low=Decimal(f"{low:.6f}"),
                close=Decimal(f"{close:.6f}"),
                volume=Decimal(f"{rng.uniform(10, 100):.3f}"),
            )
        )
        price = close
    return rows


def tick(history: dict[str, list[Candle]], pools: list[tuple[SignalSpec, ...]]) -> int:
    """One evaluator tick; returns how many pool conditions held (so nothing is skipped)."""
    frames = {symbol: Frame(rows, float(rows[-1].close)) for symbol, rows in history.items()}
    held = 0
    for signals in pools:
        for frame in frames.values():
            held += combine("and", [evaluate(spec, frame).fired for spec in signals])
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=200)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    layouts = {
        "same signals": [pool_signals(0)] * args.pools,
        "distinct signals": [pool_signals(n % 20) for n in range(args.pools)],
    }
    bars = max(spec.bars_needed() for pool in layouts["distinct signals"] for spec in pool)
    history = {f"SYM{n}": candles(n, bars) for n in range(args.symbols)}

    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}; {bars} closed candles per symbol"
    )
    print("| pools | signals | symbols | signal readings per tick | ms per tick | µs per reading |")
    print("|---:|---|---:|---:|---:|---:|")
    for layout, all_pools in layouts.items():
        for count in sorted({1, args.pools // 10 or 1, args.pools}):
            pools = all_pools[:count]
            best = float("inf")
            for _ in range(args.repeat):
                started = time.perf_counter()
                tick(history, pools)
                best = min(best, time.perf_counter() - started)
            readings = count * args.symbols * 3
            print(
                f"| {count} | {layout} | {args.symbols} | {readings} | {best * 1000:.1f} | "
                f"{best * 1e6 / readings:.2f} |"
            )


if __name__ == "__main__":
    main()
