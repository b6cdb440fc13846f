"""Backtests and paper catch-up walk a bar by one path and fill model
(``trading/engine/bar_path.py``), and funding is paid for every hour a position was
open, whatever the bar size (docs/BACKTESTS.md, docs/PAPER_ENGINE.md section 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hyperoru.market.providers.base import Candle
from hyperoru.replay.bars import Bars
from hyperoru.replay.decisions import read_decisions
from hyperoru.replay.driver import Replay
from hyperoru.trading.catch_up import replay as catch_up
from hyperoru.trading.engine import (
    AccountState,
    AssetSpec,
    EngineConfig,
    Fill,
    FundingPaid,
    OrderRequest,
    OrderType,
    Side,
    place_order,
)
from hyperoru.trading.engine.bar_path import snapshot
from tests.replay.candles import HOUR_MS, MINUTE_MS, START_MS, by_hand
from tests.replay.scripted import both_ways, settings

D = Decimal
T0 = datetime.fromtimestamp(START_MS / 1000, UTC)
RATE = 0.0001
FLAT = (100.0, 100.0, 100.0, 100.0)
# A falling minute that reaches both exits of a long: the old catch-up walked a falling
# candle high first (take-profit, filled at the high); the path walks the adverse
# extreme first, so the stop fills, at its own price.
BOTH_EXITS = (100.0, 111.0, 94.0, 96.0)
# At 10x on everything, after 10 of funding: equity 9,990 + 1,000 (p - 100) falls below
# maintenance 25 p at p = 90,010 / 975 = 92.3179: the liquidation point on the path, not
# the candle's low (90).
WICK = (99.0, 100.0, 90.0, 98.0)


def _minutes(rows: list[tuple[float, float, float, float]]) -> Bars:
    return by_hand(rows, step_ms=MINUTE_MS, funding=[RATE] * len(rows))


def _replayed(rows: list[tuple[float, float, float, float]], decision: dict) -> list[Fill]:
    """Decided at minute 0's close, filled at minute 1's open; every fill after that."""
    rules = settings(interval="1m")
    replay = Replay(rules, {"BTC": _minutes(rows)})
    for i in range(replay.bar_count):
        replay.advance(i)
        if i == 0:
            replay.submit(0, read_decisions([decision]))
    fills = list(reversed(replay.recent_fills(replay.fill_count)))
    return fills[1:]  # the entry is the caught-up account's starting point


def _caught_up(
    rows: list[tuple[float, float, float, float]], request: OrderRequest
) -> tuple[list[Fill], list[FundingPaid]]:
    """The same entry filled at minute 1's open, then minutes 1.. caught up."""
    rules = settings(interval="1m")
    config = EngineConfig(
        assets={"BTC": AssetSpec("BTC", rules.sz_decimals_of("BTC"), 20)}, fees=rules.fees
    )
    opened_at = T0 + timedelta(minutes=1)
    start = AccountState(cash=D(10000), max_leverage=10, funding_settled_at=T0)
    market = {"BTC": snapshot("BTC", D(repr(rows[1][0])), D(0), D(repr(RATE)))}
    entered = place_order(start, request, markets=market, config=config, now=opened_at)
    candles = {
        "BTC": [
            Candle(T0 + timedelta(minutes=k), *(D(repr(v)) for v in row), D(1))
            for k, row in enumerate(rows)
            if k >= 1
        ]
    }
    steps = catch_up(
        entered.state, candles=candles, rates={"BTC": [(T0, D(repr(RATE)))]}, config=config
    )
    events = [e for s in steps for e in s.result.events]
    return (
        [e for e in events if isinstance(e, Fill)],
        [e for e in events if isinstance(e, FundingPaid)],
    )


def _facts(fills: list[Fill]) -> list[tuple]:
    return [(f.time, f.side, f.price, f.quantity, f.fee, f.is_liquidation) for f in fills]


@pytest.mark.parametrize(
    ("name", "decision", "request_fields", "exit_price"),
    [
        (
            "stop before take-profit",
            {"operation": "long", "symbol": "BTC", "size_pct": 50, "take_profit_price": 110,
             "stop_loss_price": 95},
            {"quantity": D(50), "take_profit_price": D(110), "stop_loss_price": D(95)},
            D(95),
        ),
        (
            "liquidation on a wick",
            {"operation": "long", "symbol": "BTC", "size_pct": 100, "leverage": 10},
            {"quantity": D(1000), "leverage": 10},
            D("92.317948717948"),
        ),
    ],
)  # fmt: skip
def test_catch_up_and_the_replay_fill_the_same_candles_alike(
    name: str, decision: dict, request_fields: dict, exit_price: Decimal
) -> None:
    # 70 flat minutes, so the position pays the 01:00 funding hour in both; then the exit.
    rows = [FLAT] * 70 + [BOTH_EXITS if name.startswith("stop") else WICK] + [FLAT] * 3
    request = OrderRequest(
        order_id="1", symbol="BTC", side=Side.BUY, order_type=OrderType.MARKET, **request_fields
    )
    replayed = _replayed(rows, decision)
    caught, funding = _caught_up(rows, request)
    assert _facts(caught) == _facts(replayed)
    (exit_fill,) = caught
    assert exit_fill.price == exit_price
    assert exit_fill.time == T0 + timedelta(minutes=70)
    # 01:00, at the mark of the minute that opens it.
    assert [(p.time.hour, p.payment) for p in funding] == [
        (1, request_fields["quantity"] * 100 * D(repr(RATE)))
    ]


def _coarse(interval_hours: int) -> Bars:
    """Day 0 flat at 100; day 1 flat at 100 until 10:00, when the hour falls to 94 (the
    stop at 95 fills), then flat at 96; as 1h, 4h or 1d bars, with a constant rate."""
    hourly = [FLAT] * 24 + [FLAT] * 10 + [(100.0, 100.0, 94.0, 96.0)] + [(96.0,) * 4] * 13
    rows = []
    for k in range(0, len(hourly), interval_hours):
        chunk = hourly[k : k + interval_hours]
        rows.append((chunk[0][0], max(r[1] for r in chunk), min(r[2] for r in chunk), chunk[-1][3]))
    return by_hand(rows, step_ms=interval_hours * HOUR_MS, funding=[RATE] * len(rows))


@pytest.mark.parametrize(
    ("interval", "hours", "funding"),
    [
        # 01:00 ... 10:00 at 100: ten hours of 50 x 100 x 0.0001.
        ("1h", 1, "5.00000000"),
        # 01:00 ... 08:00 at 100; 09:00 inside the 08:00 bar, three quarters of the way
        # down its first leg (open 08:00 -> low 09:20): 50 x 95.5 x 0.0001; the stop at
        # 95 comes after it.
        ("4h", 4, "4.47750000"),
        # The day's path reaches its low at 08:00: hour h is at 100 - 0.75 h; the stop at
        # 95 comes at 06:40, after six hours at 99.25 ... 95.5 (sum 584.25).
        ("1d", 24, "2.92125000"),
    ],
)
def test_funding_is_paid_for_every_hour_a_stopped_position_was_open(
    interval: str, hours: int, funding: str
) -> None:
    bars = _coarse(hours)
    decide_at = 24 // hours - 1  # the last bar of day 0: filled at day 1's 00:00 open
    long = {"operation": "long", "symbol": "BTC", "size_pct": 50, "stop_loss_price": 95}
    result = both_ways(settings(interval=interval), bars, {decide_at: [long]})
    (trade,) = result.trades
    assert trade["entry_time"] == "2026-01-02T00:00:00Z"
    assert (trade["exit_reason"], D(trade["exit_price"])) == ("stop_loss", 95)
    assert trade["funding"] == funding
    assert result.metrics["funding_paid"] == funding


def test_catch_up_fills_a_resting_limit_the_path_trades_through_at_its_own_price() -> None:
    rules = settings(interval="1m")
    config = EngineConfig(
        assets={"BTC": AssetSpec("BTC", rules.sz_decimals_of("BTC"), 20)}, fees=rules.fees
    )
    start = AccountState(cash=D(10000), max_leverage=10, funding_settled_at=T0)
    limit = OrderRequest(
        order_id="7",
        symbol="BTC",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=D(10),
        price=D(97),
    )
    market = {"BTC": snapshot("BTC", D(100), D(0), None)}
    resting = place_order(start, limit, markets=market, config=config, now=T0).state
    assert resting.open_orders
    rows = [(100, 101, D("97.5"), 99), (99, 99, 96, 98)]  # only the second goes through 97
    candles = {
        "BTC": [
            Candle(T0 + timedelta(minutes=k + 1), *(D(v) for v in row), D(1))
            for k, row in enumerate(rows)
        ]
    }
    steps = catch_up(resting, candles=candles, rates={}, config=config)
    fills = [e for s in steps for e in s.result.events if isinstance(e, Fill)]
    assert [(f.time, f.price, f.quantity, f.liquidity.value) for f in fills] == [
        (T0 + timedelta(minutes=2), D(97), D(10), "maker")
    ]
