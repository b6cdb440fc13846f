"""/api/analytics/by-factor on trades traders really made on a scripted clock, over hourly
candles the market serves: every factor's signed z-score at each entry is recomputed here
from the same candles, and the correlations checked against scipy.stats; another user's
trades never count. Refused while the engine is off: test_analytics_api.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import scipy.stats
from fastapi import FastAPI

from hyperoru.analytics.factor_contribution import bars_to_load
from hyperoru.factors.bars import bars_from_candles
from hyperoru.factors.catalogue import BY_NAME, builtin_trees
from hyperoru.factors.evaluate import evaluate_many
from hyperoru.market.providers.base import Candle, ProviderError, UnknownSymbol
from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.analytics.conftest import DeepMarket
from tests.factors.data import random_bars
from tests.helpers import Api, assert_error
from tests.trading.helpers import Trader, new_trader, tick
from tests.trading.market import ScriptedMarket, TestClock

HOUR = timedelta(hours=1)
HISTORY = 1500  # hourly candles before the clock's start


class CandleMarket(DeepMarket):
    """DeepMarket plus hourly candles: synthetic, rounded to cents so that the candle
    store keeps them exactly."""

    def __init__(self, clock: TestClock) -> None:
        super().__init__(clock)
        bars = random_bars(symbols=2, bars=HISTORY + 48, seed=11)
        first = clock.start - HOUR * HISTORY
        self.hourly: dict[str, list[Candle]] = {}
        self.failing = False
        self.delisted: set[str] = set()
        for row, symbol in enumerate(("BTC", "ETH")):
            self.hourly[symbol] = [
                Candle(
                    first + HOUR * i,
                    *(
                        round(Decimal(repr(float(getattr(bars, c)[row, i]))), 2)
                        for c in ("open", "high", "low", "close", "volume")
                    ),
                )
                for i in range(bars.shape[1])
            ]

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        if self.failing:
            raise ProviderError("the candle source is down")
        if symbol in self.delisted:
            raise UnknownSymbol(symbol)
        if interval != "1h":
            return []  # the paper exchange's minute candles: DeepMarket has none
        rows = [c for c in self.hourly.get(symbol, []) if start <= c.open_time < end]
        return rows[: self.candle_page_size]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(factor_engine="enabled", factor_refresh_minutes=0)


@pytest.fixture
def market(clock: TestClock) -> ScriptedMarket:
    return CandleMarket(clock)


# (symbol, side, hour, entry mark, exit mark): entries at half past, exits at 50 past.
ROUND_TRIPS = (
    ("BTC", "buy", 0, 50000, 50400),
    ("ETH", "sell", 1, 3000, 2950),
    ("BTC", "sell", 2, 50400, 50900),
    ("ETH", "buy", 3, 2950, 2900),
    ("BTC", "buy", 5, 50900, 52000),
    ("ETH", "sell", 7, 2900, 2990),
    ("BTC", "buy", 9, 52000, 51500),
    ("ETH", "buy", 11, 2990, 3080),
    ("BTC", "sell", 13, 51500, 51200),
)
QUANTITY = {"BTC": "0.01", "ETH": "0.1"}


async def _round_trip(
    app: FastAPI, clock: TestClock, market: ScriptedMarket, trader: Trader, trip: tuple
) -> None:
    symbol, side, hour, entry, exit_ = trip
    clock.at(hour * 60 + 30)
    await market.set(symbol, entry)
    await tick(app)
    await trader.trade(symbol=symbol, side=side, quantity=QUANTITY[symbol])
    clock.at(hour * 60 + 50)
    await market.set(symbol, exit_)
    await tick(app)
    closing = "sell" if side == "buy" else "buy"
    await trader.trade(symbol=symbol, side=closing, quantity=QUANTITY[symbol], reduce_only=True)


class _EntryOnly:
    """Only the field ``bars_to_load`` reads of a trade."""

    def __init__(self, entry_time: datetime) -> None:
        self.entry_time = entry_time


def _expected(market: CandleMarket, trades: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every factor's row, recomputed from the market's candles with scipy as the oracle."""
    trees = builtin_trees()
    entries = [datetime.fromisoformat(t["entry_time"]) for t in trades]
    returns = np.array([t["return_pct"] for t in trades], dtype=float)
    pnls = [Decimal(repr(t["pnl"])) for t in trades]
    # Per symbol: the bars closed by its last entry, as many as its entries' span needs.
    signed = {name: np.full(len(trades), np.nan) for name in trees}
    for symbol in {t["symbol"] for t in trades}:
        at = [k for k, t in enumerate(trades) if t["symbol"] == symbol]
        count = bars_to_load([_EntryOnly(entries[k]) for k in at], "1h", trees)  # type: ignore[misc]
        last = max(entries[k] for k in at)
        candles = [c for c in market.hourly[symbol] if c.open_time + HOUR <= last][-count:]
        bars = bars_from_candles([(symbol, candles)])
        for name, matrix in evaluate_many(trees, bars).items():
            z = scipy.stats.zscore(matrix[0], ddof=0, nan_policy="omit")
            for k in at:
                column = max(i for i, t in enumerate(bars.times) if t + HOUR <= entries[k])
                signed[name][k] = z[column] if trades[k]["side"] == "long" else -z[column]
    expected: dict[str, dict[str, Any]] = {}
    for name in trees:
        x = signed[name]
        ok = np.isfinite(x)
        rank_ic = ic = None
        if ok.sum() >= 3 and np.ptp(x[ok]) > 0:
            rank_ic = float(scipy.stats.spearmanr(x[ok], returns[ok]).statistic)
            ic = float(scipy.stats.pearsonr(x[ok], returns[ok]).statistic)
        aligned = [p for p, v in zip(pnls, x, strict=True) if np.isfinite(v) and v > 0]
        opposed = [p for p, v in zip(pnls, x, strict=True) if np.isfinite(v) and v < 0]
        expected[name] = {
            "trades": int(ok.sum()),
            "rank_ic": rank_ic,
            "ic": ic,
            "aligned_trades": len(aligned),
            "aligned_pnl": float(sum(aligned, Decimal(0))),
            "aligned_win_rate": sum(p > 0 for p in aligned) / len(aligned) if aligned else None,
            "opposed_trades": len(opposed),
            "opposed_pnl": float(sum(opposed, Decimal(0))),
            "opposed_win_rate": sum(p > 0 for p in opposed) / len(opposed) if opposed else None,
        }
    return expected


def _close(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and abs(actual - expected) <= 1e-9


async def test_by_factor_matches_scipy_on_the_callers_own_trades(
    app: FastAPI, api: Api, clock: TestClock, market: CandleMarket
) -> None:
    trader = await new_trader(api, name="Mine", initial_capital=10000)
    other = await new_trader(api, name="Theirs", initial_capital=10000)
    for trip in ROUND_TRIPS:
        await _round_trip(app, clock, market, trader, trip)
    # Another user's trades in the same hours, with very different returns.
    for symbol, side, hour, entry, _ in ROUND_TRIPS[:4]:
        await _round_trip(app, clock, market, other, (symbol, side, hour + 1, entry, entry * 2))
    clock.at(20 * 60)
    await tick(app)

    # Before any candle is stored: a failing source is a retryable 503; a symbol no
    # longer listed leaves its trades without values (here: the other user's ETH trades).
    market.failing = True
    failed = await other.api.client.get("/api/analytics/by-factor", headers=other.headers)
    assert_error(failed, 503, "MARKET_DATA_UNAVAILABLE")
    market.failing, market.delisted = False, {"ETH"}
    without_eth = await other.get("/api/analytics/by-factor", days=1)
    assert max(r["trades"] for r in without_eth) == 2  # their two BTC trades
    market.delisted = set()

    trades = await trader.get("/api/analytics/trades", days=1)
    assert len(trades) == len(ROUND_TRIPS)
    assert {t["account_id"] for t in trades} == {trader.id}
    rows = await trader.get("/api/analytics/by-factor", days=1)
    assert len(rows) == len(BY_NAME) == 64
    assert [r["rank"] for r in rows] == list(range(1, 65))
    expected = _expected(market, trades)
    measured = 0
    for row in rows:
        want = expected[row["factor_name"]]
        assert row["category"] == BY_NAME[row["factor_name"]].category
        assert row["trades"] == want["trades"], row
        assert _close(row["rank_ic"], want["rank_ic"]), (row, want)
        assert _close(row["ic"], want["ic"]), (row, want)
        for side in ("aligned", "opposed"):
            assert row[f"{side}_trades"] == want[f"{side}_trades"], row
            assert row[f"{side}_pnl"] == pytest.approx(want[f"{side}_pnl"], abs=1e-9)
            assert _close(row[f"{side}_win_rate"], want[f"{side}_win_rate"]), row
        measured += row["rank_ic"] is not None
    # The candle history covers every warm-up: nearly every factor has a correlation.
    assert measured >= 55
    ranked = [abs(r["rank_ic"]) for r in rows if r["rank_ic"] is not None]
    assert ranked == sorted(ranked, reverse=True)
    assert all(r["rank_ic"] is None for r in rows[len(ranked) :])

    theirs = await other.get("/api/analytics/by-factor", days=1)
    assert {r["trades"] for r in theirs} <= {0, 4}
    assert max(r["trades"] for r in theirs) == 4
    their_trades = await other.get("/api/analytics/trades", days=1)
    want_theirs = _expected(market, their_trades)
    for row in theirs:
        assert _close(row["rank_ic"], want_theirs[row["factor_name"]]["rank_ic"]), row


async def test_by_factor_without_trades_lists_every_factor_with_nulls(api: Api) -> None:
    trader = await new_trader(api, name="Idle", initial_capital=10000)
    rows = await trader.get("/api/analytics/by-factor", days=7)
    assert len(rows) == 64
    assert all(r["trades"] == 0 and r["rank_ic"] is None and r["ic"] is None for r in rows)
    assert all(r["aligned_pnl"] == 0 and r["aligned_win_rate"] is None for r in rows)
    assert [r["factor_name"] for r in rows] == sorted(r["factor_name"] for r in rows)


async def test_by_factor_of_one_trader_counts_only_its_trades(
    app: FastAPI, api: Api, clock: TestClock, market: CandleMarket
) -> None:
    first = await new_trader(api, name="First", initial_capital=10000)
    account = await create_trader(api, first.token, name="Second", initial_capital=10000)
    second = Trader(api, first.token, account, first.user)
    for k, trip in enumerate(ROUND_TRIPS):
        await _round_trip(app, clock, market, first if k % 2 else second, trip)
    clock.at(20 * 60)
    await tick(app)

    everyone = await first.get("/api/analytics/by-factor", days=1)
    assert max(r["trades"] for r in everyone) == len(ROUND_TRIPS)
    for trader, count in ((first, 4), (second, 5)):
        trades = await first.get("/api/analytics/trades", days=1, account_id=trader.id)
        assert len(trades) == count and {t["account_id"] for t in trades} == {trader.id}
        rows = await first.get("/api/analytics/by-factor", days=1, account_id=trader.id)
        assert max(r["trades"] for r in rows) == count
        expected = _expected(market, trades)
        for row in rows:
            want = expected[row["factor_name"]]
            assert row["trades"] == want["trades"], row
            assert _close(row["rank_ic"], want["rank_ic"]), (row, want)
            assert row["aligned_pnl"] == pytest.approx(want["aligned_pnl"], abs=1e-9)
