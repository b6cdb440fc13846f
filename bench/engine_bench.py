"""Orders per second through the pure paper engine (no database, no HTTP).

    .venv/bin/python bench/engine_bench.py [--orders 20000] [--traders 2000] [--repeat 3]

Cases:
- one trader, market orders: buy and sell in turn (open, close, open, ...) against a
  20-level book, each order walking two levels;
- one trader, limit orders resting then cancelled (the ALO path, no fill);
- one trader, market ticks: ``on_market`` on an account with a position, two triggers
  and five resting orders that do not fill (the monitor's steady state);
- many traders: each of ``--traders`` accounts places 10 market orders in turn, first in
  one process, then spread over ``--workers`` processes (the engine is pure CPU, so
  threads would share one core under the GIL; processes are how it scales).

Each case is run ``--repeat`` times and the best rate kept. Prints a Markdown table for
bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hyperoru.trading.engine import (
    AccountState,
    AssetSpec,
    BookLevel,
    EngineConfig,
    MarketSnapshot,
    OrderBook,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
    cancel_order,
    on_market,
    place_order,
)

CONFIG = EngineConfig.of(AssetSpec("BTC", sz_decimals=5, max_leverage=40))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ORDERS_PER_TRADER = 10


def _snapshot(mid: int = 50000) -> MarketSnapshot:
    # 20 levels a side, one dollar apart, 0.05 BTC each: a 0.08 BTC order takes two levels.
    size = Decimal("0.05")
    book = OrderBook(
        bids=tuple(BookLevel(Decimal(mid - k), size) for k in range(1, 21)),
        asks=tuple(BookLevel(Decimal(mid + k), size) for k in range(1, 21)),
    )
    return MarketSnapshot("BTC", Decimal(mid), book, funding_rate=Decimal("0.0000125"))


MARKETS = {"BTC": _snapshot()}


def _market_order(number: int, side: Side) -> OrderRequest:
    return OrderRequest(
        order_id=f"o{number}",
        symbol="BTC",
        side=side,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.08"),
        leverage=5,
    )


def _trade_in_turn(state: AccountState, count: int, offset: int = 0) -> AccountState:
    for number in range(count):
        side = Side.BUY if number % 2 == 0 else Side.SELL
        request = _market_order(offset + number, side)
        result = place_order(state, request, markets=MARKETS, config=CONFIG, now=T0)
        if result.reject_code is not None:
            raise RuntimeError(result.message)
        state = result.state
    return state


def one_trader_market_orders(count: int) -> int:
    _trade_in_turn(AccountState(cash=Decimal(100000)), count)
    return count


def one_trader_resting_then_cancelled(count: int) -> int:
    state = AccountState(cash=Decimal(100000))
    for number in range(count):
        request = OrderRequest(
            order_id=f"r{number}",
            symbol="BTC",
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.08"),
            price=Decimal(49000),
            time_in_force=TimeInForce.ALO,
        )
        state = place_order(state, request, markets=MARKETS, config=CONFIG, now=T0).state
        cancelled = cancel_order(state, f"r{number}", now=T0)
        assert cancelled is not None
        state = cancelled.state
    return count


def one_trader_market_ticks(count: int) -> int:
    protected = OrderRequest(
        order_id="p",
        symbol="BTC",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.08"),
        leverage=5,
        take_profit_price=Decimal(60000),
        stop_loss_price=Decimal(40000),
    )
    state = place_order(
        AccountState(cash=Decimal(100000)), protected, markets=MARKETS, config=CONFIG, now=T0
    ).state
    for number in range(5):
        bid = OrderRequest(
            f"b{number}",
            "BTC",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.01"),
            price=Decimal(45000 + number),
        )
        state = place_order(state, bid, markets=MARKETS, config=CONFIG, now=T0).state
    for number in range(count):
        now = T0 + timedelta(seconds=number)
        markets = {"BTC": _snapshot(50000 + number % 50)}
        state = on_market(state, markets, config=CONFIG, now=now).state
    return count


def _traders_slice(first: int, traders: int) -> int:
    for trader in range(first, first + traders):
        _trade_in_turn(AccountState(cash=Decimal(100000)), ORDERS_PER_TRADER, trader * 100)
    return traders * ORDERS_PER_TRADER


def many_traders_one_process(traders: int) -> int:
    return _traders_slice(0, traders)


def many_traders_in_processes(traders: int, workers: int, pool: ProcessPoolExecutor) -> int:
    share = traders // workers
    futures = [pool.submit(_traders_slice, w * share, share) for w in range(workers)]
    return sum(f.result() for f in futures)


def _best_rate(run: Callable[[], int], repeat: int) -> tuple[float, float]:
    best = 0.0
    best_seconds = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        done = run()
        seconds = time.perf_counter() - started
        if done / seconds > best:
            best, best_seconds = done / seconds, seconds
    return best, best_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--traders", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rows: list[tuple[str, int, float, float]] = []
    cases: list[tuple[str, int, Callable[[], int]]] = [
        (
            "one trader: market orders (open/close)",
            args.orders,
            lambda: one_trader_market_orders(args.orders),
        ),
        (
            "one trader: ALO limit placed then cancelled",
            args.orders,
            lambda: one_trader_resting_then_cancelled(args.orders),
        ),
        (
            "one trader: on_market ticks (position, 2 triggers, 5 orders)",
            args.orders,
            lambda: one_trader_market_ticks(args.orders),
        ),
        (
            f"{args.traders} traders x {ORDERS_PER_TRADER} market orders, 1 process",
            args.traders * ORDERS_PER_TRADER,
            lambda: many_traders_one_process(args.traders),
        ),
    ]
    for name, count, run in cases:
        rate, seconds = _best_rate(run, args.repeat)
        rows.append((name, count, seconds, rate))
    with ProcessPoolExecutor(args.workers) as pool:
        pool.submit(int).result()  # start the workers before timing
        count = args.traders * ORDERS_PER_TRADER
        rate, seconds = _best_rate(
            lambda: many_traders_in_processes(args.traders, args.workers, pool), args.repeat
        )
        name = (
            f"{args.traders} traders x {ORDERS_PER_TRADER} market orders, {args.workers} processes"
        )
        rows.append((name, count, seconds, rate))

    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, best of {args.repeat}"
    )
    print()
    print("| case | operations | seconds | operations/s |")
    print("|---|---:|---:|---:|")
    for name, count, seconds, rate in rows:
        print(f"| {name} | {count} | {seconds:.2f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
