"""A backtest follows the venue its trader stands for and the trader's margin mode, as
its paper fills would (issue 17: switching paper to live changes where orders go, not how
they behave; a backtest is the same trader on old candles).

Bars are 1h; the long is bought at bar 1's open (100) with no slippage or fees.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperoru.replay.settings import ReplaySettings
from tests.replay.candles import by_hand
from tests.replay.scripted import both_ways, scripted, settings

FLAT = (100.0, 100.0, 100.0, 100.0)
STOPPED_LONG = {0: [{"operation": "long", "symbol": "BTC", "size_pct": 50, "stop_loss_price": 95}]}
LEVERED_LONG = {0: [{"operation": "long", "symbol": "BTC", "size_pct": 50, "leverage": 5}]}


def test_a_gap_beyond_ten_percent_fills_a_binance_stop_but_not_a_hyperliquid_one() -> None:
    # Bar 2 opens at 80, 15.8% beyond the stop at 95: Hyperliquid's trigger is a limit at
    # 95 * 0.9 = 85.5, which a bid at 80 cannot fill (the trigger is spent, the position
    # stays); Binance's conditional order is a market order once triggered.
    bars = by_hand([FLAT, FLAT, (80, 80, 79, 80), FLAT])
    (kept,) = both_ways(settings(venue="hyperliquid"), bars, STOPPED_LONG).trades
    assert (kept["exit_reason"], kept["quantity"]) == (None, "50.000")
    binance = both_ways(settings(venue="binance"), bars, STOPPED_LONG)
    (stopped,) = binance.trades
    assert (stopped["exit_reason"], Decimal(stopped["exit_price"])) == ("stop_loss", 80)
    assert binance.metrics["final_equity"] == "9000.00000000"  # 50 x (80 - 100)


def test_a_gap_within_ten_percent_fills_both_venues_alike() -> None:
    bars = by_hand([FLAT, FLAT, (90, 90, 89, 90), FLAT])
    exits = [
        both_ways(settings(venue=v), bars, STOPPED_LONG).trades for v in ("hyperliquid", "binance")
    ]
    assert exits[0] == exits[1]
    assert Decimal(exits[0][0]["exit_price"]) == 90


def test_an_isolated_traders_position_is_liquidated_on_its_own_margin() -> None:
    # 250 BTC-units at 100 with 5x: 5,000 of margin. Cross, the whole 10,000 backs it and a
    # drop to 78 leaves it open. Isolated, it is liquidated where its own margin meets the
    # maintenance rate 1 / (2 x 20): (25,000 - 5,000) / (250 x 0.975) = 82.0512820...
    bars = by_hand([FLAT, FLAT, (90, 90, 78, 80), FLAT])
    (cross,) = both_ways(settings(margin_mode="cross"), bars, LEVERED_LONG).trades
    assert cross["exit_reason"] is None
    result = both_ways(settings(margin_mode="isolated"), bars, LEVERED_LONG)
    (isolated,) = result.trades
    assert isolated["exit_reason"] == "liquidation"
    assert Decimal(isolated["exit_price"]).quantize(Decimal("1e-9")) == Decimal("82.051282051")
    _, outcomes = scripted(settings(margin_mode="isolated"), bars, LEVERED_LONG)
    assert outcomes[0][0]["order"]["margin_mode"] == "isolated"


def test_the_rules_survive_the_trip_to_the_sandbox_and_back() -> None:
    rules = settings(venue="binance", margin_mode="isolated")
    assert ReplaySettings.from_plain(rules.to_plain()) == rules
    # Runs stored before these fields existed replay as they did: Hyperliquid, cross.
    old = {k: v for k, v in rules.to_plain().items() if k not in ("venue", "margin_mode")}
    restored = ReplaySettings.from_plain(old)
    assert (restored.venue, restored.margin_mode) == ("hyperliquid", "cross")


@pytest.mark.parametrize(("field", "value"), [("venue", "kraken"), ("margin_mode", "portfolio")])
def test_unknown_rules_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        settings(**{field: value})
