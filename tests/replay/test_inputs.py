"""Bars and settings survive their plain and wire forms; indicator series never look
ahead (the value read at bar i is the indicator over the closes up to bar i); the replay
core imports with the standard library only."""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import hyperoru
from hyperoru.market import indicators
from hyperoru.market.indicator_catalog import NAMES, resolve
from hyperoru.market.regime import classify_regime
from hyperoru.replay.bars import Bars, from_wire, to_wire
from hyperoru.replay.series import SeriesBook
from hyperoru.replay.settings import ReplaySettings
from tests.replay.candles import by_hand, random_walk


def test_bars_round_trip_through_plain_and_wire_forms() -> None:
    bars = by_hand([(1.5, 2.25, 1.0, 2.0), (2.0, 3.0, 0.1, 0.3)], funding=[None, -0.0001])
    assert Bars.from_plain(bars.to_plain()) == bars
    other = random_walk(3, symbol="ETH")
    header, block = to_wire({"BTC": bars, "ETH": other})
    assert len(block) == 8 * (2 * 7 + 3 * 6)  # times, five prices, BTC's funding
    assert from_wire(header, block) == {"BTC": bars, "ETH": other}
    with pytest.raises(ValueError, match="shorter"):
        from_wire(header, block[:-8])
    with pytest.raises(ValueError, match="longer"):
        from_wire(header, block + bytes(8))


def test_bars_refuse_ragged_columns_and_unordered_times() -> None:
    with pytest.raises(ValueError, match="every column"):
        Bars("BTC", [1, 2], [1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        Bars("BTC", [2, 1], *([[1.0, 1.0]] * 5))


def test_settings_round_trip_and_checks() -> None:
    rules = ReplaySettings(
        symbols=("btc", "eth"),
        interval="15m",
        slippage_pct=Decimal("0.05"),
        max_position_notional=Decimal(5000),
        sz_decimals={"btc": 5},
    )
    assert rules.symbols == ("BTC", "ETH") and rules.sz_decimals_of("BTC") == 5
    assert ReplaySettings.from_plain(rules.to_plain()) == rules
    assert rules.bars_per_year == 365 * 24 * 4
    with pytest.raises(ValueError, match="interval"):
        ReplaySettings(symbols=("BTC",), interval="2h")
    with pytest.raises(ValueError, match="slippage"):
        ReplaySettings(symbols=("BTC",), interval="1h", slippage_pct=Decimal(5))


def _book(bars: Bars) -> SeriesBook:
    return SeriesBook({bars.symbol: (list(bars.close), list(bars.high), list(bars.low))})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("period", [None, 2, 37])
def test_indicator_values_only_use_bars_up_to_their_own(name: str, period: int | None) -> None:
    if name.startswith("macd") and period is not None:
        return  # MACD is 12/26/9 only
    bars = random_walk(400)
    book = _book(bars)
    request = resolve(name, period)
    series = book.indicator("BTC", *request)
    assert series is not None and len(series) == 400
    for i in (0, 5, 19, 20, 33, 34, 150, 399):
        prefix = _book(
            Bars("BTC", bars.times[: i + 1], *(getattr(bars, c)[: i + 1] for c in
                 ("open", "high", "low", "close", "volume")))
        )  # fmt: skip
        expected = prefix.indicator("BTC", *request)[-1]
        if expected is None:
            assert series[i] is None
        else:
            assert math.isclose(series[i], expected, rel_tol=1e-9, abs_tol=1e-9), (name, i)


def test_indicator_series_match_the_shared_indicators_for_any_period() -> None:
    bars = random_walk(100)
    book = _book(bars)
    for period in (10, 30, 99):
        expected = indicators.sma(bars.close, period)
        assert book.indicator("BTC", "sma", period)[99] == expected[99]
    assert book.indicator("BTC", "sma", 10)[8] is None  # warm-up
    assert book.indicator("BTC", "ema", 37)[60] == indicators.ema(bars.close, 37)[60]
    assert book.indicator("BTC", "sma", 100)[98] is None  # longer than the bars so far
    assert book.indicator("ETH", "sma", 10) is None


def test_the_regime_at_a_bar_is_the_regime_of_the_bars_up_to_it() -> None:
    bars = random_walk(300)
    book = _book(bars)
    assert book.regime("BTC", 5) is None
    for i in (150, 299):
        reading = classify_regime(bars.high[: i + 1], bars.low[: i + 1], bars.close[: i + 1])
        assert reading is not None
        assert book.regime("BTC", i)["regime"] == reading.regime.value
        assert math.isclose(book.regime("BTC", i)["atr_pct"], reading.atr_pct, rel_tol=1e-9)


def test_the_replay_core_needs_only_the_standard_library() -> None:
    """The sandbox child imports it with no site-packages on its path."""
    root = str(Path(hyperoru.__file__).resolve().parents[1])
    probe = (
        f"import sys; sys.path.append({root!r}); import hyperoru.replay.driver; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'sqlalchemy', 'httpx', 'pydantic', 'fastapi')))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
