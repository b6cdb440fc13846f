"""The replay driver's own rules, on bars small enough to compute by hand (mutation
testing, scripts/mutation.py): how many rejections are kept, how a late symbol with a
missing candle is aligned and funded, which extreme a small long meets first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hyperoru.replay.bars import Bars
from hyperoru.replay.decisions import read_decisions
from hyperoru.replay.driver import PROGRESS_STEPS, Replay, run_replay
from hyperoru.replay.prices import iso
from hyperoru.replay.settings import ReplaySettings
from hyperoru.strategies.decision import Decision
from tests.replay.candles import HOUR_MS, by_hand
from tests.replay.scripted import both_ways, scripted, settings

FLAT = (100.0, 100.0, 100.0, 100.0)


def test_the_first_hundred_rejections_are_kept_and_every_one_is_counted() -> None:
    replay = Replay(settings(), {"BTC": by_hand([FLAT] * 101)})
    for i in range(101):
        replay.advance(i)
        replay.refuse(i, f"unusable answer {i}")
    result = replay.finish()
    assert [r["reason"] for r in result.rejections] == [f"unusable answer {i}" for i in range(100)]
    assert result.metrics["rejected_decisions"] == 101
    assert result.metrics["decisions"] == 101


def test_a_late_symbol_with_a_missing_candle_is_aligned_with_its_funding() -> None:
    btc = by_hand([FLAT] * 4, funding=[0.0001] * 4)
    # ETH starts at bar 1 and has no candle at bar 2.
    eth = Bars(
        "ETH",
        [btc.times[1], btc.times[3]],
        [50.0, 60.0],
        [51.0, 61.0],
        [49.0, 59.0],
        [50.5, 60.5],
        [7.0, 8.0],
        [0.0002, 0.0003],
    )
    rules = settings(symbols=("BTC", "ETH"), sz_decimals={"BTC": 3, "ETH": 2})
    replay = Replay(rules, {"BTC": btc, "ETH": eth})
    column = replay.column("ETH")
    assert column.open == [None, 50.0, 50.5, 60.0]
    assert column.high == [None, 51.0, 50.5, 61.0]
    assert column.low == [None, 49.0, 50.5, 59.0]
    assert column.close == [None, 50.5, 50.5, 60.5]
    # No candle once the symbol has started: nothing traded; before: unknown.
    assert column.volume == [None, 7.0, 0.0, 8.0]
    assert column.rates == [None, 0.0002, None, 0.0003]


def test_a_late_symbols_funding_is_paid() -> None:
    btc = by_hand([FLAT] * 4)
    eth = Bars(
        "ETH",
        [btc.times[1], btc.times[2], btc.times[3]],
        [50.0] * 3,
        [50.0] * 3,
        [50.0] * 3,
        [50.0] * 3,
        [1.0] * 3,
        [0.001] * 3,
    )
    rules = settings(symbols=("BTC", "ETH"), sz_decimals={"BTC": 3, "ETH": 2})
    buy_eth = {"operation": "long", "symbol": "ETH", "size_pct": 10}
    result, _ = scripted(rules, {"BTC": btc, "ETH": eth}, {1: [buy_eth]})
    (trade,) = result.trades
    # 20 ETH bought at 02:00's open; 03:00 is settled at 50 x 20 x 0.1% = 1.
    assert trade["quantity"] == "20.00"
    assert trade["funding"] == "1.00000000"


def test_a_long_under_one_unit_meets_its_stop_before_its_take_profit() -> None:
    # 5,000 USD at 50,000 is 0.1 BTC; the bar reaches both exits: the low comes first.
    flat = (50000.0,) * 4
    bars = by_hand([flat, flat, (50000, 55500, 44000, 50000), flat])
    exits = {"take_profit_price": 55000, "stop_loss_price": 45000}
    decision = {"operation": "long", "symbol": "BTC", "size_pct": 50, **exits}
    result = both_ways(settings(), bars, {0: [decision]})
    (trade,) = result.trades
    assert trade["quantity"] == "0.100"
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 45000)


def test_a_long_under_one_unit_is_liquidated_by_a_wick_in_a_bar_the_pre_check_skips() -> None:
    # 1,000 USD at 10x is 0.2 BTC at 50,000 (under one unit: the quiet-bar pre-check
    # must take the low as a long's adverse extreme whatever its size). Cross, all in:
    # equity 1,000 + 0.2 (p - 50,000) meets 2.5% of 0.2 p at p = 9,000 / 0.195.
    flat = (50000.0,) * 4
    bars = by_hand([flat, flat, (49000, 50000, 45000, 49000), flat])
    all_in = {"operation": "long", "symbol": "BTC", "size_pct": 100, "leverage": 10}
    result = both_ways(settings(initial_balance=Decimal(1000)), bars, {0: [all_in]})
    (trade,) = result.trades
    assert trade["quantity"] == "0.200"
    assert trade["exit_reason"] == "liquidation"
    assert Decimal(trade["exit_price"]).quantize(Decimal("1e-6")) == Decimal("46153.846154")


def test_a_shorts_path_goes_up_first_then_down_to_its_take_profit() -> None:
    # The high (101) stays below the stop; the low (94) passes the take-profit at 95.
    bars = by_hand([FLAT, FLAT, (100, 101, 94, 100), FLAT])
    short = {"operation": "short", "symbol": "BTC", "size_pct": 50}
    exits = {"take_profit_price": 95, "stop_loss_price": 105}
    result = both_ways(settings(), bars, {0: [{**short, **exits}]})
    (trade,) = result.trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("take_profit", 95)
    assert trade["pnl"] == "250.00000000"  # 50 units x 5


def test_funding_inside_a_four_hour_bar_is_paid_at_the_price_the_path_has_then() -> None:
    # The path of a long's bar: open 00:00, low 01:20, high 02:40, close 04:00, in straight
    # lines. 05:00 is 3/4 of the way down from 100 to 80: 85; 06:00 half way up from 80 to
    # 120: 100; 07:00 a quarter of the way from 120 down to 100: 115. 08:00 is the next
    # bar's open (100), and 09:00 to 11:00 are inside that flat bar: 50 units x 0.1% x
    # (85 + 100 + 115 + 100 + 3 x 100) = 35.
    flat = (100.0,) * 4
    bars = by_hand([flat, (100, 120, 80, 100), flat], step_ms=4 * HOUR_MS, funding=[0.001] * 3)
    result = both_ways(
        settings(interval="4h"), bars, {0: [{"operation": "long", "symbol": "BTC", "size_pct": 50}]}
    )
    (trade,) = result.trades
    assert trade["entry_time"] == "2026-01-01T04:00:00Z"
    assert trade["funding"] == "35.00000000"


def test_the_view_at_a_close_holds_the_account_marked_at_the_closes() -> None:
    btc = by_hand([FLAT, (100, 110, 100, 110), FLAT])
    eth = by_hand([(50.0,) * 4, (50, 50, 40, 40), (40.0,) * 4], symbol="ETH")
    rules = settings(symbols=("BTC", "ETH"), sz_decimals={"BTC": 3, "ETH": 3})
    replay = Replay(rules, {"BTC": btc, "ETH": eth})
    replay.advance(0)
    long_btc = {"operation": "long", "symbol": "BTC", "size_pct": 50}
    short_eth = {"operation": "short", "symbol": "ETH", "size_pct": 20, "leverage": 2}
    outcomes = replay.submit(0, read_decisions([long_btc, short_eth]))
    replay.advance(1)
    # Order ids count from 1 in the order the decisions executed.
    assert [o["order_id"] for o in outcomes] == ["1", "2"]
    view = replay.view(1)
    # Decided at bar 1's close, 02:00; both filled at 01:00's open (100 and 50).
    assert (view["now"], view["bar"]) == ("2026-01-01T02:00:00Z", 1)
    assert view["prices"] == {"BTC": 110.0, "ETH": 40.0}
    assert view["positions"] == [
        {
            "symbol": "BTC",
            "side": "long",
            "size": 50.0,
            "entry_price": 100.0,
            "mark_price": 110.0,
            "leverage": 1,
            "unrealized_pnl": 500.0,
            "opened_at": "2026-01-01T01:00:00Z",
        },
        {
            "symbol": "ETH",
            "side": "short",
            "size": 40.0,
            "entry_price": 50.0,
            "mark_price": 40.0,
            "leverage": 2,
            "unrealized_pnl": 400.0,
            "opened_at": "2026-01-01T01:00:00Z",
        },
    ]
    # Margin: 50 x 110 / 1 + 40 x 40 / 2 = 6,300 of 10,900 equity.
    assert view["balance"] == {
        "total": 10900.0,
        "available": 4600.0,
        "margin_used": 6300.0,
        "unrealized_pnl": 900.0,
    }
    assert view["trigger"] == {"type": "scheduled", "signal_pool_id": None, "values": {}}
    assert replay.decision_time(2) == "2026-01-01T03:00:00Z"


def test_a_replay_of_one_bar_ends_where_it_started() -> None:
    replay = Replay(settings(), {"BTC": by_hand([FLAT])})
    replay.advance(0)
    result = replay.finish()
    assert result.metrics["final_equity"] == "10000.00000000"
    assert result.equity_curve == [{"time": "2026-01-01T00:00:00Z", "equity": "10000.00000000"}]


def test_a_daily_bars_funding_at_the_hours_its_extremes_are_reached() -> None:
    # A day's legs end at 08:00 (the low, 80) and 16:00 (the high, 120): those hours are
    # settled there, at the extreme. Hourly marks of the day after the entry:
    # 97.5 ... 80 (sum 710), 85 ... 120 (820), 117.5 ... 102.5 (770), then the next
    # day's open 100 and its 23 flat hours (2,300): 50 units x 0.01% x 4,700 = 23.5.
    flat = (100.0,) * 4
    bars = by_hand([flat, (100, 120, 80, 100), flat], step_ms=24 * HOUR_MS, funding=[0.0001] * 3)
    long_btc = {"operation": "long", "symbol": "BTC", "size_pct": 50}
    result = both_ways(settings(interval="1d"), bars, {0: [long_btc]})
    (trade,) = result.trades
    assert trade["entry_time"] == "2026-01-02T00:00:00Z"
    assert trade["funding"] == "23.50000000"


def test_exits_exactly_at_the_bars_extremes_fire_when_quiet_bars_are_skipped() -> None:
    # The skipping pre-check must not call a bar quiet when its high (or low) only
    # touches the exit: touching counts as reaching it.
    bars = by_hand([FLAT, FLAT, (101, 110, 100, 105), FLAT])
    long_tp = {"operation": "long", "symbol": "BTC", "size_pct": 50, "take_profit_price": 110}
    (trade,) = both_ways(settings(), bars, {0: [long_tp]}).trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("take_profit", 110)
    bars = by_hand([FLAT, FLAT, (99, 100, 95, 96), FLAT])
    long_sl = {"operation": "long", "symbol": "BTC", "size_pct": 50, "stop_loss_price": 95}
    (trade,) = both_ways(settings(), bars, {0: [long_sl]}).trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 95)


def test_decisions_come_at_every_nth_close_and_at_each_signal_fired() -> None:
    bars = by_hand([FLAT] * 10)
    scheduled = Replay(settings(decide_every=3), {"BTC": bars})
    assert [i for i in range(10) if scheduled.decides_at(i)] == [2, 5, 8]
    signal = {"type": "signal", "signal_pool_id": 5, "values": {}}
    fired = {bars.times[3]: signal}
    both = Replay(settings(decide_every=3, signal_triggers=fired), {"BTC": bars})
    assert [i for i in range(10) if both.decides_at(i)] == [2, 3, 5, 8]
    assert both.trigger_at(3) == signal
    assert both.trigger_at(5)["type"] == "scheduled"
    only_signals = settings(decide_every=3, signal_triggers=fired, scheduled=False)
    assert [i for i in range(10) if Replay(only_signals, {"BTC": bars}).decides_at(i)] == [3]


def test_a_long_under_one_unit_is_shown_as_a_long() -> None:
    flat = (50000.0,) * 4
    replay = Replay(settings(), {"BTC": by_hand([flat] * 3)})
    replay.advance(0)
    replay.submit(0, read_decisions([{"operation": "long", "symbol": "BTC", "size_pct": 50}]))
    replay.advance(1)
    (position,) = replay.view(1)["positions"]
    assert (position["side"], position["size"]) == ("long", 0.1)


def test_a_replay_stopped_early_ends_its_curve_at_the_last_bar_it_advanced() -> None:
    # 3,000 bars: the curve samples 2,000 of them, bars 0, 2, 3, 5 ... (k x 2999 / 1999
    # rounded): bar 4 is not one, so the finish adds it.
    bars = by_hand([FLAT] * 3000)
    replay = Replay(settings(), {"BTC": bars})
    for i in range(5):
        replay.advance(i)
    curve = replay.finish().equity_curve
    assert curve[-1]["time"] == "2026-01-01T04:00:00Z"
    assert [point["time"] for point in curve] == [
        "2026-01-01T00:00:00Z",
        "2026-01-01T02:00:00Z",
        "2026-01-01T03:00:00Z",
        "2026-01-01T04:00:00Z",
    ]


def test_the_balance_of_each_close_is_measured_at_that_close() -> None:
    # Bars 2 and 3 are quiet (the account is not replaced): the balance measured at
    # bar 2 must not be answered again at bar 3.
    bars = by_hand([FLAT, FLAT, (100, 110, 100, 110), (110, 120, 110, 120)])
    replay = Replay(settings(), {"BTC": bars})
    replay.advance(0)
    replay.submit(0, read_decisions([{"operation": "long", "symbol": "BTC", "size_pct": 50}]))
    totals = []
    for i in (1, 2, 3):
        replay.advance(i)
        totals.append(replay.balance_view(i)["total"])
        assert replay.balance_view(i)["total"] == totals[-1]  # asked again: the same
    assert totals == [10000.0, 10500.0, 11000.0]  # 50 units marked at 100, 110, 120


def _asked(rules: ReplaySettings, bars: Bars) -> list[int]:
    asked: list[int] = []
    run_replay(rules, {"BTC": bars}, lambda i, view: asked.append(i) or [])
    return asked


def test_the_replay_loop_asks_at_the_same_closes_as_decides_at() -> None:
    bars = by_hand([FLAT] * 10)
    fired = {bars.times[3]: {"type": "signal", "signal_pool_id": 5, "values": {}}}
    assert _asked(settings(decide_every=3), bars) == [2, 5, 8]
    assert _asked(settings(decide_every=3, signal_triggers=fired), bars) == [2, 3, 5, 8]
    signals_only = settings(decide_every=3, scheduled=False)
    assert _asked(replace(signals_only, signal_triggers=fired), bars) == [3]
    # Signal pools that never fired in the range: no decision at all, not the schedule.
    assert _asked(signals_only, bars) == []


def test_the_view_a_strategy_reads_is_the_replays_view_at_that_close() -> None:
    btc = by_hand([FLAT, (100, 110, 100, 110), (110, 112, 104, 105), FLAT])
    seen: dict[int, dict[str, object]] = {}

    def decide(i: int, view: Mapping[str, Any]) -> list[Decision]:
        assert len(view) == 6
        seen[i] = {key: view[key] for key in view}
        return read_decisions([{"operation": "long", "symbol": "BTC", "size_pct": 20}])

    run_replay(settings(), {"BTC": btc}, decide)
    same = Replay(settings(), {"BTC": btc})
    for i in range(4):
        same.advance(i)
        assert seen[i] == same.view(i)
        same.submit(i, read_decisions([{"operation": "long", "symbol": "BTC", "size_pct": 20}]))
    assert seen[2]["positions"] and seen[2]["trigger"] == {
        "type": "scheduled",
        "signal_pool_id": None,
        "values": {},
    }


def test_progress_is_reported_in_steps_up_to_the_whole() -> None:
    reported: list[float] = []
    run_replay(
        settings(), {"BTC": by_hand([FLAT] * 1000)}, lambda i, v: [], on_progress=reported.append
    )
    assert len(reported) == PROGRESS_STEPS == 200
    assert reported == [k * 5 / 1000 for k in range(1, 201)]
    few: list[float] = []
    run_replay(settings(), {"BTC": by_hand([FLAT] * 4)}, lambda i, v: [], on_progress=few.append)
    assert few == [0.25, 0.5, 0.75, 1.0]


def test_a_long_replays_curve_has_two_thousand_evenly_spread_points() -> None:
    bars = by_hand([FLAT] * 3000)
    curve = run_replay(settings(), {"BTC": bars}, lambda i, v: []).equity_curve
    assert len(curve) == 2000
    # Bar k x 2999 / 1999, rounded: 0, 2, 3, 5 ... 2996, 2997, 2999.
    assert [p["time"] for p in curve[:4]] == [iso(bars.times[k]) for k in (0, 2, 3, 5)]
    assert [p["time"] for p in curve[-3:]] == [iso(bars.times[k]) for k in (2996, 2997, 2999)]
