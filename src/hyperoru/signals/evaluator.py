"""Pure evaluation of signals and pools: candles and the current price in, readings out.

A ``Frame`` holds one symbol's closed candles of one interval plus the live price, which
stands in as the close (and high/low) of the forming candle; the indicator lines of
``hyperoru.market.indicators`` are computed on it at most once each, however many signals
of however many pools read them. A reading compares the last point of a line with its
threshold, and the point before it for the crossings. Volume is read on closed candles
only, since the forming candle's volume is not known yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from hyperoru.factors.lines import PREFIX as FACTOR_PREFIX
from hyperoru.factors.lines import expression_line
from hyperoru.market import indicators
from hyperoru.market.indicators import FloatArray
from hyperoru.market.providers.base import Candle
from hyperoru.signals.config import AverageMultiple, IndicatorRef, SignalSpec

EQUAL_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Reading:
    """One signal on one symbol now: did it fire, and on which numbers."""

    fired: bool
    value: float | None
    previous: float | None = None
    threshold: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "value": self.value,
            "previous": self.previous,
            "threshold_value": self.threshold,
        }


class Frame:
    """One symbol's candles on one interval plus the live price; lines computed lazily."""

    def __init__(
        self,
        candles: Sequence[Candle],
        price: float | None,
        snapshots: Mapping[str, float] | None = None,
    ) -> None:
        self.opens = np.array([float(c.open) for c in candles], dtype=np.float64)
        closed_close = np.array([float(c.close) for c in candles], dtype=np.float64)
        closed_high = np.array([float(c.high) for c in candles], dtype=np.float64)
        closed_low = np.array([float(c.low) for c in candles], dtype=np.float64)
        self.closed_close = closed_close
        self.closed_high = closed_high
        self.closed_low = closed_low
        self.volume = np.array([float(c.volume) for c in candles], dtype=np.float64)
        self.price = price
        live = [] if price is None else [price]
        self.close = np.concatenate([closed_close, live])
        self.high = np.concatenate([closed_high, live])
        self.low = np.concatenate([closed_low, live])
        self.snapshots = dict(snapshots or {})
        self._lines: dict[IndicatorRef, FloatArray] = {}
        # Many pools (of many users) hold the same signal: read each one once per frame.
        self.readings: dict[SignalSpec, Reading] = {}

    def line(self, ref: IndicatorRef) -> FloatArray:
        if ref not in self._lines:
            self._lines[ref] = self._compute(ref)
        return self._lines[ref]

    def _compute(self, ref: IndicatorRef) -> FloatArray:
        name, period = ref.name, ref.period or 1
        close = self.close
        if name in ("funding_rate", "open_interest"):
            value = self.snapshots.get(name)
            return np.array([np.nan if value is None else value], dtype=np.float64)
        if name.startswith(FACTOR_PREFIX):
            return expression_line(
                ref.expression or "",
                open=self.opens,
                high=self.closed_high,
                low=self.closed_low,
                close=self.closed_close,
                volume=self.volume,
            )
        if name == "price":
            return close
        if name == "volume":
            return self.volume
        if close.size == 0:
            return close
        if name == "rsi":
            return indicators.rsi(close, period)
        if name == "ema":
            return indicators.ema(close, period)
        if name == "sma":
            return indicators.sma(close, period)
        if name == "atr":
            return indicators.atr(self.high, self.low, close, period)
        if name == "price_change_pct":
            return indicators.price_change_pct(close, period)
        if name in ("bb_upper", "bb_lower"):
            bands = indicators.bollinger_bands(close, period)
            return bands.upper if name == "bb_upper" else bands.lower
        lines = indicators.macd(close)
        return {"macd": lines.macd, "macd_signal": lines.signal, "macd_hist": lines.histogram}[name]


def _last_two(series: FloatArray) -> tuple[float | None, float | None]:
    def finite(value: float) -> float | None:
        return value if math.isfinite(value) else None

    current = finite(float(series[-1])) if series.size >= 1 else None
    previous = finite(float(series[-2])) if series.size >= 2 else None
    return current, previous


def _threshold_pair(
    spec: SignalSpec, frame: Frame, own: FloatArray
) -> tuple[float | None, float | None]:
    """The threshold now and one point before (a constant is the same at both)."""
    threshold = spec.threshold
    if isinstance(threshold, IndicatorRef):
        return _last_two(frame.line(threshold))
    if isinstance(threshold, AverageMultiple):
        # The average of the bars *before* each point, so a spike is measured against the
        # calm it breaks out of rather than an average it already inflated.
        if own.size < 2:
            return None, None
        window = threshold.period
        now = indicators.sma(own[-window - 1 : -1], window) if own.size > window else own[:0]
        before = indicators.sma(own[-window - 2 : -2], window) if own.size > window + 1 else own[:0]
        factor = threshold.factor
        current = _last_two(now)[0]
        previous = _last_two(before)[0]
        return (
            None if current is None else current * factor,
            None if previous is None else previous * factor,
        )
    assert isinstance(threshold, float)
    return threshold, threshold


def _compare(operator: str, value: float, limit: float) -> bool:
    if operator == ">":
        return value > limit
    if operator == "<":
        return value < limit
    if operator == ">=":
        return value >= limit
    if operator == "<=":
        return value <= limit
    return math.isclose(value, limit, rel_tol=EQUAL_TOLERANCE, abs_tol=EQUAL_TOLERANCE)


def _pattern(spec: SignalSpec, frame: Frame) -> Reading:
    opens, closes = frame.opens, frame.closed_close
    if spec.pattern in ("bullish_engulfing", "bearish_engulfing"):
        if closes.size < 2:
            return Reading(False, None)
        o1, c1, o2, c2 = opens[-2], closes[-2], opens[-1], closes[-1]
        if spec.pattern == "bullish_engulfing":
            fired = c1 < o1 and c2 > o2 and o2 <= c1 and c2 >= o1
        else:
            fired = c1 > o1 and c2 < o2 and o2 >= c1 and c2 <= o1
        return Reading(bool(fired), float(c2), float(c1))
    if frame.price is None or closes.size < spec.lookback:
        return Reading(False, frame.price)
    if spec.pattern == "breakout_high":
        level = float(frame.closed_high[-spec.lookback :].max())
        return Reading(frame.price > level, frame.price, threshold=level)
    level = float(frame.closed_low[-spec.lookback :].min())
    return Reading(frame.price < level, frame.price, threshold=level)


def evaluate(spec: SignalSpec, frame: Frame) -> Reading:
    """The signal's reading on the frame's last point (NaN warm-up never fires)."""
    reading = frame.readings.get(spec)
    if reading is None:
        reading = frame.readings[spec] = _evaluate(spec, frame)
    return reading


def _evaluate(spec: SignalSpec, frame: Frame) -> Reading:
    if spec.type == "pattern":
        return _pattern(spec, frame)
    own = frame.line(spec.indicator)
    value, previous = _last_two(own)
    limit, limit_before = _threshold_pair(spec, frame, own)
    if value is None or limit is None:
        return Reading(False, value, previous, limit)
    operator = spec.operator or ">"
    if operator in ("crosses_above", "crosses_below"):
        if previous is None or limit_before is None:
            return Reading(False, value, previous, limit)
        if operator == "crosses_above":
            fired = previous <= limit_before and value > limit
        else:
            fired = previous >= limit_before and value < limit
        return Reading(fired, value, previous, limit)
    return Reading(_compare(operator, value, limit), value, previous, limit)


def combine(logic: str, fired: Sequence[bool]) -> bool:
    """A pool's condition on one symbol: all signals (``and``) or any (``or``)."""
    if not fired:
        return False
    return all(fired) if logic == "and" else any(fired)


def should_fire(
    *,
    was_true: bool | None,
    is_true: bool,
    last_fired_at: datetime | None,
    cooldown: timedelta,
    now: datetime,
) -> bool:
    """Edge-triggered with a cooldown: fire when the condition turns true (a first
    observation is only a baseline) and the pool has not fired within the cooldown."""
    if not is_true or was_true is None or was_true:
        return False
    return last_fired_at is None or now - last_fired_at >= cooldown


@dataclass(frozen=True, slots=True)
class PoolSignal:
    """One of a pool's signals: its definition's id, name and stored config, parsed."""

    definition_id: int
    name: str
    config: Mapping[str, Any]
    spec: SignalSpec


@dataclass(frozen=True, slots=True)
class PoolRules:
    """What a pool evaluates, independent of where its state is kept."""

    symbols: tuple[str, ...]
    logic: str
    cooldown: timedelta
    signals: tuple[PoolSignal, ...]


@dataclass(frozen=True, slots=True)
class PoolStep:
    """One evaluation of a pool: its new per-symbol condition, and what fired."""

    condition: dict[str, bool]
    fired_symbols: tuple[str, ...]
    entries: tuple[dict[str, Any], ...]


def _threshold_label(config: Mapping[str, Any]) -> Any:
    return config.get("threshold", config.get("reference", config.get("pattern")))


def signal_entry(symbol: str, signal: PoolSignal, reading: Reading) -> dict[str, Any]:
    """How a fired signal appears in the trigger context and the trigger log."""
    spec = signal.spec
    return {
        "symbol": symbol,
        "signal_id": signal.definition_id,
        "name": signal.name,
        "indicator": spec.pattern or spec.indicator.label,
        "operator": spec.operator,
        "threshold": _threshold_label(signal.config),
        "interval": spec.interval,
        **reading.as_dict(),
    }


def step_pool(
    rules: PoolRules,
    frames: Callable[[str, str], Frame | None],
    *,
    condition: Mapping[str, bool],
    last_fired_at: datetime | None,
    now: datetime,
) -> PoolStep:
    """Evaluate a pool once, per symbol: combine its signals with its logic, and fire on
    the symbols whose condition turned true (edge, cooldown). A symbol without a frame
    for one of its signals' intervals keeps its state. The live runtime and backtest
    replays both step pools through this function."""
    state = dict(condition)
    fired: list[str] = []
    entries: list[dict[str, Any]] = []
    for symbol in rules.symbols:
        readings = []
        for signal in rules.signals:
            frame = frames(symbol, signal.spec.interval)
            if frame is None:
                break
            readings.append((signal, evaluate(signal.spec, frame)))
        else:
            is_true = combine(rules.logic, [r.fired for _, r in readings])
            if should_fire(
                was_true=state.get(symbol),
                is_true=is_true,
                # One firing may name several symbols: the cooldown starts after it.
                last_fired_at=last_fired_at if not fired else None,
                cooldown=rules.cooldown,
                now=now,
            ):
                fired.append(symbol)
                entries.extend(signal_entry(symbol, s, r) for s, r in readings if r.fired)
            state[symbol] = is_true
    return PoolStep(state, tuple(fired), tuple(entries))
