"""Metrics on hand-made paths, the fingerprint's canonical form and its stability."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from decimal import Decimal

from hyperoru.replay.fingerprint import canonical, fingerprint
from hyperoru.replay.metrics import compute_metrics, max_drawdown_pct, sharpe_ratio
from hyperoru.replay.trips import RoundTrip
from tests.replay.candles import random_walk
from tests.replay.scripted import scripted, settings


def test_max_drawdown_is_the_worst_fall_from_a_running_peak() -> None:
    # Peaks 110 then 120; falls of 10% (110 -> 99) and 25% (120 -> 90).
    assert math.isclose(max_drawdown_pct(100.0, [110.0, 99.0, 120.0, 90.0, 100.0]), 25.0)
    assert max_drawdown_pct(100.0, [101.0, 102.0]) == 0.0
    # A fall from the initial balance counts.
    assert math.isclose(max_drawdown_pct(100.0, [80.0, 120.0]), 20.0)


def test_sharpe_is_annualised_mean_over_sample_deviation_of_bar_returns() -> None:
    path = [110.0, 99.0, 120.0, 90.0]
    returns = [0.1, -0.1, 120.0 / 99.0 - 1, -0.25]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(8760)
    assert math.isclose(sharpe_ratio(100.0, path, 8760), expected, rel_tol=1e-12)
    assert sharpe_ratio(100.0, [100.0, 100.0, 100.0], 8760) is None  # no variation
    assert sharpe_ratio(100.0, [101.0], 8760) is None


def _trip(pnl: str) -> RoundTrip:
    return RoundTrip("BTC", "long", "2026-01-01T00:00:00Z", realized_pnl=Decimal(pnl))


def test_trade_metrics_count_closed_round_trips_net_of_costs() -> None:
    trips = [_trip("30"), _trip("-10"), _trip("20"), _trip("-5"), _trip("0")]
    trips[0].fees = Decimal("2")  # net 28
    metrics = compute_metrics(
        initial_balance=Decimal(1000),
        final_equity=Decimal("1033"),
        trips=trips,
        equity=[1000.0, 1033.0],
        bars_per_year=8760,
        fees=Decimal(2),
        funding=Decimal(0),
        liquidations=0,
        decisions=5,
        rejected=0,
    )
    assert metrics["total_trades"] == 5
    assert (metrics["winning_trades"], metrics["losing_trades"]) == (2, 2)
    assert metrics["win_rate"] == "0.40000000"  # a break-even trade is not a win
    assert metrics["profit_factor"] == "3.20000000"  # (28 + 20) / (10 + 5)
    assert metrics["total_pnl"] == "33" and metrics["total_pnl_percent"] == "3.30000000"


def test_the_fingerprint_is_sha256_of_sorted_compact_json() -> None:
    trades = [{"b": "1.50", "a": None, "fill_ids": [1, 2]}]
    assert canonical(trades) == b'[{"a":null,"b":"1.50","fill_ids":[1,2]}]'
    assert fingerprint(trades) == hashlib.sha256(canonical(trades)).hexdigest()


SCRIPT = {
    3: [{"operation": "long", "symbol": "BTC", "size_pct": 40, "stop_loss_pct": 2}],
    40: [{"operation": "short", "symbol": "BTC", "size_pct": 60, "leverage": 3}],
    90: [{"operation": "close", "symbol": "BTC"}],
    120: [{"operation": "long", "symbol": "BTC", "size_pct": 80, "take_profit_pct": 3}],
}


def test_same_inputs_same_fingerprint_other_inputs_another() -> None:
    rules = settings(slippage_pct=Decimal("0.05"), taker_fee_pct=Decimal("0.045"))
    first, _ = scripted(rules, random_walk(300), SCRIPT)
    again, _ = scripted(rules, random_walk(300), SCRIPT)
    assert len(first.trades) >= 3
    assert first.fingerprint == again.fingerprint
    assert json.dumps(first.to_plain()) == json.dumps(again.to_plain())
    assert first.fingerprint == fingerprint(first.trades)

    other_prices, _ = scripted(rules, random_walk(300, seed=8), SCRIPT)
    other_fees, _ = scripted(settings(slippage_pct=Decimal("0.06")), random_walk(300), SCRIPT)
    assert other_prices.fingerprint != first.fingerprint
    assert other_fees.fingerprint != first.fingerprint


def test_the_equity_curve_is_downsampled_but_the_drawdown_sees_every_bar() -> None:
    bars = random_walk(5000)
    result, _ = scripted(settings(), bars, {0: [{"operation": "long", "symbol": "BTC",
                                                 "size_pct": 100}]})  # fmt: skip
    curve = result.equity_curve
    assert len(curve) == 2000
    assert curve[0]["time"] == "2026-01-01T00:00:00Z"
    assert curve[-1]["equity"] == result.metrics["final_equity"]
    # Held from bar 1's open: equity moves with every close; the drawdown over all bars
    # is at least the one visible in the sampled curve.
    sampled = [float(p["equity"]) for p in curve]
    assert result.metrics["max_drawdown_pct"] >= max_drawdown_pct(10000.0, sampled) - 1e-9
    assert result.metrics["bars"] == 5000
