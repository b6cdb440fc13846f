"""IC and rank IC against scipy.stats, the aggregates and decay worked by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from hyperoru.factors import effectiveness as eff
from hyperoru.factors.evaluate import evaluate
from hyperoru.factors.language import parse
from tests.factors.data import random_bars

BARS = random_bars(symbols=5, bars=24 * 30, seed=11)
FACTOR = evaluate(parse("roc(close, 5)"), BARS)
RETURNS = eff.forward_returns(BARS.close, 1)


def test_forward_returns_are_close_to_close_and_trim_the_horizon() -> None:
    close = np.array([[1.0, 2.0, 4.0, 5.0]])
    r = eff.forward_returns(close, 2)
    assert r[0, :2].tolist() == [3.0, 1.5] and np.isnan(r[0, 2:]).all()


def test_time_series_ic_matches_scipy_per_symbol_and_period() -> None:
    kind = eff.time_series_ics(FACTOR, RETURNS, BARS.times, 24)
    assert kind.ic.shape == (5, 30)
    checked = 0
    for s in range(5):
        for p in range(30):
            f = FACTOR[s, p * 24 : (p + 1) * 24]
            r = RETURNS[s, p * 24 : (p + 1) * 24]
            ok = np.isfinite(f) & np.isfinite(r)
            if ok.sum() < 3:
                assert math.isnan(kind.ic[s, p])
                continue
            assert kind.ic[s, p] == pytest.approx(stats.pearsonr(f[ok], r[ok])[0], abs=1e-9)
            assert kind.rank_ic[s, p] == pytest.approx(stats.spearmanr(f[ok], r[ok])[0], abs=1e-9)
            checked += 1
    assert checked >= 140


def test_cross_sectional_ic_matches_scipy_per_bar() -> None:
    kind = eff.cross_sectional_ics(FACTOR, RETURNS, BARS.times)
    for t in (10, 100, 400, 700):
        f, r = FACTOR[:, t], RETURNS[:, t]
        assert kind.ic[t] == pytest.approx(stats.pearsonr(f, r)[0], abs=1e-9)
        assert kind.rank_ic[t] == pytest.approx(stats.spearmanr(f, r)[0], abs=1e-9)
    assert np.isnan(kind.ic[:5]).all()  # roc(5) has no value yet
    assert np.isnan(kind.ic[-1])  # no forward return for the newest bar


def test_rank_ic_uses_average_ranks_for_ties() -> None:
    f = np.array([[1.0, 1.0, 2.0, 3.0, 3.0, 4.0]])
    r = np.array([[0.1, 0.3, 0.2, 0.5, 0.4, 0.6]])
    assert eff.spearman(f, r)[0] == pytest.approx(stats.spearmanr(f[0], r[0])[0], abs=1e-12)


def test_summary_by_hand_and_null_rules() -> None:
    s = eff.summarise(np.array([0.1, 0.3, -0.1, np.nan]), np.array([0.2, 0.2, 0.2]))
    mean, std = 0.1, float(np.std([0.1, 0.3, -0.1], ddof=1))
    assert s.ic == pytest.approx(mean) and s.icir == pytest.approx(mean / std)
    assert s.t_stat == pytest.approx(mean / std * math.sqrt(3))
    assert s.win_rate == pytest.approx(2 / 3) and s.periods == 3
    assert s.rank_ic == pytest.approx(0.2) and s.rank_icir is None  # no spread: null
    empty = eff.summarise(np.array([]), np.array([]))
    assert empty.as_dict() == {
        "ic": None,
        "rank_ic": None,
        "icir": None,
        "rank_icir": None,
        "t_stat": None,
        "win_rate": None,
        "periods": 0,
    }
    # A constant factor has no correlation: null, never NaN.
    constant = eff.pearson(np.ones((1, 10)), np.arange(10.0)[None, :])
    assert math.isnan(constant[0])


def test_half_life_of_an_exact_exponential_decay() -> None:
    lam = math.log(2) / 3.0
    decay = eff.decay_of([0.2 * math.exp(-lam * (h - 1)) for h in range(1, 13)])
    assert decay.half_life == pytest.approx(3.0, rel=1e-9)
    assert decay.half_life_crossing == pytest.approx(4.0, rel=1e-9)
    # Growing IC: no decay within the horizons.
    assert eff.decay_of([0.1, 0.2, 0.3]).half_life is None
    # Only the horizons keeping IC(1)'s sign enter the fit.
    mixed = eff.decay_of([-0.2, -0.1, 0.05, -0.05])
    slope = np.polyfit([1, 2, 4], np.log([0.2, 0.1, 0.05]), 1)[0]
    assert mixed.half_life == pytest.approx(math.log(2) / -slope)
    assert mixed.half_life_crossing == pytest.approx(2.0)


def test_history_is_daily_and_windows_trail_from_the_newest_period() -> None:
    report = eff.report(FACTOR, BARS.close, BARS.times, BARS.symbols, eff.Settings())
    ts = report["time_series"]
    assert isinstance(ts, dict)
    days = [row["date"] for row in ts["history"]]
    assert days == sorted(days) and len(days) == 30
    windows = {row["window"]: row for row in ts["by_window"]}
    assert windows["7d"]["periods"] == 7 * 5  # 7 daily periods × 5 symbols
    assert windows["30d"]["periods"] == windows["365d"]["periods"]
    assert set(ts["per_symbol"]) == set(BARS.symbols)
    assert ts["decay"]["horizons"] == list(range(1, 13))
    cs = report["cross_sectional"]
    assert isinstance(cs, dict) and cs["summary"]["periods"] > 600


def test_a_factor_that_knows_the_future_scores_one() -> None:
    # Sanity: the next return itself has IC 1 in both kinds.
    future = eff.forward_returns(BARS.close, 1)
    times = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(720)]
    report = eff.report(future, BARS.close, times, BARS.symbols, eff.Settings())
    assert report["time_series"]["summary"]["ic"] == pytest.approx(1.0)  # type: ignore[index]
    assert report["cross_sectional"]["summary"]["rank_ic"] == pytest.approx(1.0)  # type: ignore[index]
    assert report["time_series"]["summary"]["win_rate"] == 1.0  # type: ignore[index]
