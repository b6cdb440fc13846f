"""The order of events within a bar, fills, fees, slippage, triggers, liquidation and
funding, on bars small enough to compute by hand (docs/BACKTESTS.md). Every case also
runs with the engine called at every point of every bar, and must give the same result."""

from __future__ import annotations

from decimal import Decimal

from hyperoru.replay.bars import Bars
from hyperoru.replay.decisions import read_decisions
from hyperoru.replay.driver import Replay, run_replay
from tests.replay.candles import by_hand
from tests.replay.scripted import both_ways, scripted, settings

FLAT = (100.0, 100.0, 100.0, 100.0)


def long_with_exits(**exits: float) -> dict:
    return {"operation": "long", "symbol": "BTC", "size_pct": 50, **exits}


def test_one_round_trip_pays_slippage_and_taker_fees() -> None:
    bars = by_hand([FLAT, (102, 103, 101, 102), (104, 105, 103, 104)])
    rules = settings(slippage_pct=Decimal("0.1"), taker_fee_pct=Decimal("0.045"))
    result = both_ways(
        rules, bars, {0: [long_with_exits()], 1: [{"operation": "close", "symbol": "BTC"}]}
    )
    (trade,) = result.trades
    # Decided at bar 0's close (100): 50% of 10,000 = 5,000 USD = 50 units. Bought at bar
    # 1's open + 0.1%: 102.102; sold at bar 2's open - 0.1%: 103.896.
    assert trade["quantity"] == "50.000"
    assert trade["entry_time"] == "2026-01-01T01:00:00Z"
    assert trade["exit_time"] == "2026-01-01T02:00:00Z"
    assert Decimal(trade["entry_price"]) == Decimal("102.102")
    assert Decimal(trade["exit_price"]) == Decimal("103.896")
    assert trade["realized_pnl"] == "89.70000000"  # 50 x 1.794
    # 50 x 102.102 x 0.045% + 50 x 103.896 x 0.045%
    assert trade["fees"] == "4.63495500"
    assert trade["pnl"] == "85.06504500"
    metrics = result.metrics
    assert metrics["final_equity"] == "10085.06504500"
    assert metrics["total_pnl"] == "85.06504500"
    assert metrics["total_trades"] == 1 and metrics["win_rate"] == "1.00000000"
    assert metrics["profit_factor"] is None  # no losing trade
    assert metrics["fees_paid"] == "4.63495500"


def test_take_profit_fills_at_its_price_on_the_bar_high() -> None:
    bars = by_hand([FLAT, FLAT, (101, 111, 100, 105), FLAT])
    result = both_ways(
        settings(), bars, {0: [long_with_exits(take_profit_price=110, stop_loss_price=95)]}
    )
    (trade,) = result.trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("take_profit", 110)
    assert trade["exit_time"] == "2026-01-01T02:00:00Z"
    assert trade["pnl"] == "500.00000000"  # 50 units x 10


def test_stop_loss_fills_at_its_price_on_the_bar_low() -> None:
    bars = by_hand([FLAT, FLAT, (99, 100, 94, 96), FLAT])
    result = both_ways(settings(), bars, {0: [long_with_exits(stop_loss_pct=5)]})
    (trade,) = result.trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 95)
    assert result.metrics["final_equity"] == "9750.00000000"


def test_when_one_bar_reaches_both_exits_the_stop_loss_comes_first() -> None:
    bars = by_hand([FLAT, FLAT, (100, 111, 94, 100), FLAT])
    exits = {"take_profit_price": 110, "stop_loss_price": 95}
    result = both_ways(settings(), bars, {0: [long_with_exits(**exits)]})
    (trade,) = result.trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 95)

    # A short's adverse extreme is the high: its stop first too.
    short = {"operation": "short", "symbol": "BTC", "size_pct": 50}
    result = both_ways(
        settings(),
        bars,
        {0: [{**short, "take_profit_price": 95, "stop_loss_price": 110}]},
    )
    (trade,) = result.trades
    assert (trade["side"], trade["exit_reason"]) == ("short", "stop_loss")
    assert Decimal(trade["exit_price"]) == 110


def test_a_gap_through_the_stop_fills_at_the_open() -> None:
    bars = by_hand([FLAT, FLAT, (90, 92, 89, 91), FLAT])
    result = both_ways(settings(), bars, {0: [long_with_exits(stop_loss_price=95)]})
    (trade,) = result.trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 90)
    assert trade["pnl"] == "-500.00000000"


def test_a_stop_already_crossed_when_the_entry_fills_fires_at_that_open() -> None:
    # Decided at 100 with a 5% stop (95); the next bar opens at 94, below it.
    bars = by_hand([FLAT, (94, 96, 93, 95), FLAT])
    result = both_ways(settings(), bars, {0: [long_with_exits(stop_loss_pct=5)]})
    (trade,) = result.trades
    assert trade["entry_time"] == trade["exit_time"] == "2026-01-01T01:00:00Z"
    assert Decimal(trade["entry_price"]) == Decimal(trade["exit_price"]) == 94


def test_liquidation_on_a_wick_closes_at_the_liquidation_price() -> None:
    # 10x on everything: 1,000 units at 100, maintenance 1/(2 x 20) = 2.5% of notional.
    # equity = 10,000 + 1,000 (p - 100) falls below 25 p at p = 90,000 / 975 = 92.3077.
    bars = by_hand([FLAT, FLAT, (99, 100, 90, 98), FLAT])
    decision = {"operation": "long", "symbol": "BTC", "size_pct": 100, "leverage": 10}
    result = both_ways(settings(), bars, {0: [decision]})
    (trade,) = result.trades
    assert trade["exit_reason"] == "liquidation"
    assert Decimal(trade["exit_price"]) == Decimal("92.307692307692")
    assert result.metrics["liquidations"] == 1
    assert result.metrics["final_equity"] == "2307.69230769"
    # The close (98) is above the liquidation price: only the wick reached it.


ISOLATED = settings(margin_mode="isolated")
# 250 units at 100 with 5x on 5,000 of isolated margin, maintenance 2.5% of notional: a
# long is liquidated at 20,000 / (250 x 0.975) = 82.0512820512..., a short at 30,000 /
# (250 x 1.025) = 117.0731707317...
ISOLATED_5X = {"symbol": "BTC", "size_pct": 50, "leverage": 5}


def test_a_wick_that_only_just_reaches_an_isolated_liquidation_price_liquidates() -> None:
    # The low is 8e-11 past the liquidation price: the walk's float pre-check must not
    # call that bar comfortably solvent (its tolerance is for rounding, not for margin).
    bars = by_hand([FLAT, FLAT, (90, 90, 82.0512820512, 88), FLAT])
    result = both_ways(ISOLATED, bars, {0: [{"operation": "long", **ISOLATED_5X}]})
    (trade,) = result.trades
    assert trade["exit_reason"] == "liquidation"
    assert Decimal(trade["exit_price"]).quantize(Decimal("1e-9")) == Decimal("82.051282051")


def test_a_gap_through_an_isolated_liquidation_price_liquidates_at_the_open() -> None:
    # Bar 2 opens at 80, below the liquidation price (82.05): the position is closed at
    # the open, not at the better liquidation price the bar never traded at. No funding
    # here, so nothing else makes the walk call the engine at the open.
    bars = by_hand([FLAT, FLAT, (80, 81, 79, 80), FLAT])
    result = both_ways(ISOLATED, bars, {0: [{"operation": "long", **ISOLATED_5X}]})
    (trade,) = result.trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("liquidation", 80)
    assert trade["exit_time"] == "2026-01-01T02:00:00Z"


def test_a_longs_stop_above_its_liquidation_price_comes_first_on_the_way_down() -> None:
    # The low (78) passes the stop (85) and then the liquidation price (82.05): the stop
    # closes the position at 85 before the liquidation price is reached.
    bars = by_hand([FLAT, FLAT, (90, 90, 78, 80), FLAT])
    long_stop = {"operation": "long", **ISOLATED_5X, "stop_loss_price": 85}
    (trade,) = both_ways(ISOLATED, bars, {0: [long_stop]}).trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 85)
    assert trade["pnl"] == "-3750.00000000"  # 250 x (85 - 100)


def test_a_shorts_stop_below_its_liquidation_price_comes_first_on_the_way_up() -> None:
    bars = by_hand([FLAT, FLAT, (110, 125, 110, 112), FLAT])
    short_stop = {"operation": "short", **ISOLATED_5X, "stop_loss_price": 115}
    (trade,) = both_ways(ISOLATED, bars, {0: [short_stop]}).trades
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 115)
    assert trade["pnl"] == "-3750.00000000"  # 250 x (100 - 115)


def test_funding_is_paid_each_hour_on_the_size_held_at_the_open() -> None:
    rows = [FLAT, (101, 101, 101, 101), (102, 102, 102, 102), (103, 103, 103, 103), FLAT]
    bars = by_hand(rows, funding=[0.0001] * 5)
    result = both_ways(
        settings(), bars, {0: [long_with_exits()], 3: [{"operation": "close", "symbol": "BTC"}]}
    )
    (trade,) = result.trades
    # Opened at 01:00 (after that hour's settlement); 50 units pay at 02:00 (mark 102),
    # 03:00 (103) and 04:00 (100, settled before the close executes).
    assert trade["funding"] == "1.52500000"  # 50 x 0.0001 x (102 + 103 + 100)
    assert result.metrics["funding_paid"] == "1.52500000"
    assert trade["pnl"] == "-51.52500000"  # bought at 101, sold at 100: -50, less funding
    assert trade["realized_pnl"] == "-50.00000000"


def test_negative_funding_is_received_by_a_long() -> None:
    bars = by_hand([FLAT] * 4, funding=[-0.001] * 4)
    result = both_ways(settings(), bars, {0: [long_with_exits()]})
    (trade,) = result.trades  # still open at the end
    assert trade["exit_time"] is None and result.metrics["total_trades"] == 0
    assert trade["funding"] == "-10.00000000"  # 50 x 100 x 0.001, at 02:00 and 03:00
    assert result.metrics["final_equity"] == "10010.00000000"


def test_decide_every_asks_at_every_nth_close() -> None:
    bars = by_hand([FLAT] * 10)

    asked: list[int] = []

    def decide(i: int, view: object) -> list:
        asked.append(i)
        return []

    run_replay(settings(decide_every=3), {"BTC": bars}, decide)
    assert asked == [2, 5, 8]


def test_rejected_decisions_and_orders_are_recorded_with_their_reasons() -> None:
    bars = by_hand([FLAT] * 4)
    script = {
        0: [
            {"operation": "long", "symbol": "ETH", "size_pct": 10},
            {"operation": "long", "symbol": "BTC", "size_pct": 10, "leverage": 11},
            {"operation": "long", "symbol": "BTC", "size_pct": 150},
            {"operation": "close", "symbol": "BTC"},
            {"operation": "long", "symbol": "BTC", "size_pct": 0.01},  # 1 USD of notional
            {"operation": "hold"},
        ],
        # One unusable item makes the whole answer unusable, as in a live cycle.
        1: [{"operation": "long", "symbol": "BTC", "size_pct": 10}, {"operation": "jump"}],
    }
    result, outcomes = scripted(settings(), bars, script)
    verdicts = [(o["approved"], o["reason"]) for o in outcomes[0]]
    assert verdicts[0] == (False, "symbol ETH is not in the trader's list")
    assert verdicts[1] == (False, "leverage 11 exceeds the trader's limit of 10")
    assert verdicts[2] == (False, "size 150.0% is outside (0, 100]%")
    assert verdicts[3] == (False, "no open BTC position to close")
    assert verdicts[4] == (True, "within limits")
    assert verdicts[5] == (True, "hold: nothing to execute")
    # Approved by the risk rules, refused by the venue rules when it executed.
    execution = outcomes[0][4]["execution"]
    assert execution["status"] == "rejected" and execution["reject_code"] == "MIN_NOTIONAL"
    assert execution["time"] == "2026-01-01T01:00:00Z"
    [refused] = outcomes[1]
    assert refused["approved"] is False and "'operation' must be one of" in refused["reason"]
    assert result.metrics["decisions"] == 6
    assert result.metrics["rejected_decisions"] == 6
    reasons = [r["reason"] for r in result.rejections]
    assert reasons[-2:] == ["order value is below $10", refused["reason"]]
    assert result.trades == [] and result.metrics["final_equity"] == "10000.00000000"


def test_decisions_wait_for_the_open_and_are_checked_then() -> None:
    """Outcomes are known once the next bar's open is replayed: until then they say so."""
    bars = by_hand([FLAT] * 3)
    replay = Replay(settings(), {"BTC": bars})
    replay.advance(0)
    [outcome] = replay.submit(0, read_decisions([long_with_exits()]))
    assert (outcome["approved"], outcome["execution"]) == (None, None)
    replay.advance(1)
    assert outcome["approved"] is True and outcome["execution"]["status"] == "filled"
    assert outcome["order"] == {
        "symbol": "BTC",
        "side": "buy",
        "order_type": "market",
        "quantity": "50.00000000",  # 5,000 USD / 100
        "limit_price": None,
        "leverage": 1,
        "margin_mode": "cross",
        "reduce_only": False,
        "take_profit_price": None,
        "stop_loss_price": None,
    }


def test_an_order_decided_at_the_last_close_is_not_executed() -> None:
    bars = by_hand([FLAT] * 2)
    result, outcomes = scripted(settings(), bars, {1: [long_with_exits()]})
    [outcome] = outcomes[1]
    assert outcome["execution"]["status"] == "not_executed" and outcome["approved"] is None
    assert outcome["reason"] == "the backtest ended before the next bar's open"
    assert result.trades == []


def test_a_flip_closes_one_round_trip_and_opens_the_next() -> None:
    bars = by_hand([FLAT, FLAT, (110, 110, 110, 110), (120, 120, 120, 120)])
    script = {
        0: [long_with_exits()],
        # All of the 5,000 available at 2x: 100 units short against 50 long, a flip.
        1: [{"operation": "short", "symbol": "BTC", "size_pct": 100, "leverage": 2}],
    }
    result = both_ways(settings(), bars, script)
    first, second = result.trades
    assert (first["side"], first["exit_reason"], first["exit_time"]) == (
        "long",
        "signal",
        "2026-01-01T02:00:00Z",
    )
    assert first["realized_pnl"] == "500.00000000"  # 50 units, 100 -> 110
    assert (second["side"], second["entry_time"], second["exit_time"]) == (
        "short",
        "2026-01-01T02:00:00Z",
        None,
    )
    assert Decimal(second["entry_price"]) == 110


def test_symbols_are_aligned_on_the_first_symbols_times() -> None:
    btc = by_hand([FLAT] * 4)
    # ETH starts at bar 1 and has no candle at bar 2: it has no price before its first
    # candle, and a missing candle repeats the previous close.
    eth = Bars(
        "ETH",
        [btc.times[1], btc.times[3]],
        [50.0, 60.0],
        [51.0, 61.0],
        [49.0, 59.0],
        [50.5, 60.5],
        [1.0, 1.0],
    )
    rules = settings(symbols=("BTC", "ETH"), sz_decimals={"BTC": 3, "ETH": 2})
    buy_eth = {"operation": "long", "symbol": "ETH", "size_pct": 10}
    result, outcomes = scripted(rules, {"BTC": btc, "ETH": eth}, {0: [buy_eth], 1: [buy_eth]})
    assert outcomes[0][0]["reason"] == "no price for ETH"
    (trade,) = result.trades
    # Decided at bar 1's close (50.5), filled at bar 2's "open": the repeated close.
    assert trade["entry_time"] == "2026-01-01T02:00:00Z"
    assert Decimal(trade["entry_price"]) == Decimal("50.5")
    assert trade["quantity"] == "19.80"  # 1,000 USD / 50.5, rounded down to 2 decimals


def test_a_gap_fires_the_stop_before_the_orders_decided_at_the_last_close() -> None:
    bars = by_hand([FLAT, FLAT, (101, 101, 99, 100), (90, 92, 89, 91), FLAT])
    close = {"operation": "close", "symbol": "BTC"}
    result, outcomes = scripted(
        settings(), bars, {0: [long_with_exits(stop_loss_price=95)], 2: [close]}
    )
    (trade,) = result.trades
    # The stop was hit at 03:00's open; the close, checked then against the account as a
    # live cycle re-reads it, found nothing left to close.
    assert (trade["exit_reason"], Decimal(trade["exit_price"])) == ("stop_loss", 90)
    [outcome] = outcomes[2]
    assert (outcome["approved"], outcome["reason"]) == (False, "no open BTC position to close")
    assert outcome["execution"] is None
    assert both_ways(settings(), bars, {0: [long_with_exits(stop_loss_price=95)], 2: [close]})


def test_recent_fills_hold_every_fill_through_the_bars_advanced() -> None:
    """What a prompt backtest shows as recent trades: the decided entry and the stop that
    closed it, newest first, only once their bar has been replayed."""
    bars = by_hand([FLAT, FLAT, (99, 100, 94, 96), FLAT])
    replay = Replay(settings(), {"BTC": bars})
    seen = []
    for i in range(replay.bar_count):
        replay.advance(i)
        if i == 0:
            replay.submit(0, read_decisions([long_with_exits(stop_loss_pct=5)]))
        seen.append([(f.side.value, f.price, f.is_liquidation) for f in replay.recent_fills(10)])
    assert seen[0] == []
    assert seen[1] == [("buy", Decimal(100), False)]
    assert seen[2] == seen[3] == [("sell", Decimal(95), False), ("buy", Decimal(100), False)]
    assert [f.side.value for f in replay.recent_fills(1)] == ["sell"]
    assert replay.fill_count == 2 and replay.recent_fills(0) == []


def test_each_decision_is_sized_on_the_account_after_the_previous_order() -> None:
    """As a live cycle: ``[close BTC, long ETH 90%]`` sizes the long on the balance the
    close freed, and an all-in reversal fits."""
    btc = by_hand([FLAT] * 4)
    eth = by_hand([(50.0,) * 4] * 4, symbol="ETH")
    rules = settings(symbols=("BTC", "ETH"), sz_decimals={"BTC": 3, "ETH": 3})
    script = {
        0: [{"operation": "long", "symbol": "BTC", "size_pct": 50}],
        1: [
            {"operation": "close", "symbol": "BTC"},
            {"operation": "long", "symbol": "ETH", "size_pct": 90},
        ],
        2: [
            {"operation": "close", "symbol": "ETH"},
            {"operation": "short", "symbol": "ETH", "size_pct": 100},
        ],
    }
    result, outcomes = scripted(rules, {"BTC": btc, "ETH": eth}, script)
    # 90% of the whole 10,000 once BTC's 5,000 of margin is free (not 90% of 5,000).
    assert Decimal(outcomes[1][1]["order"]["quantity"]) == 180  # 9,000 / 50
    assert Decimal(outcomes[2][1]["order"]["quantity"]) == 200  # 10,000 / 50 (no fees here)
    assert [(o["approved"], o["execution"]["status"]) for o in outcomes[2]] == [
        (True, "filled"),
        (True, "filled"),
    ]
    assert [(t["symbol"], t["side"], t["quantity"]) for t in result.trades] == [
        ("BTC", "long", "50.000"),
        ("ETH", "long", "180.000"),
        ("ETH", "short", "200.000"),
    ]
