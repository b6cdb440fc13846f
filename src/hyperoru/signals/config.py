"""The grammar of a signal's ``config`` (contract §11), parsed into a ``SignalSpec``.

Everything a user writes is matched against fixed allowlists: indicator names, operators,
pattern names, and the two threshold forms that are not numbers (another indicator such
as ``ema_50``, or a multiple of an average such as ``2x_avg``), each recognised by one
anchored regular expression. Nothing is evaluated as code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from hyperoru.factors.lines import PREFIX as FACTOR_PREFIX
from hyperoru.factors.lines import CustomFactors, expression_of, is_builtin, warmup_of
from hyperoru.market.intervals import INTERVALS

SignalType = Literal["threshold", "crossover", "pattern"]
SIGNAL_TYPES: tuple[str, ...] = ("threshold", "crossover", "pattern")

# Indicators with a series of values over candles (the crossovers need a previous value).
SERIES_INDICATORS: tuple[str, ...] = (
    "price",
    "rsi",
    "macd",
    "macd_signal",
    "macd_hist",
    "ema",
    "sma",
    "bb_upper",
    "bb_lower",
    "atr",
    "volume",
    "price_change_pct",
)
# Read from the market provider as one current value: comparisons only.
SNAPSHOT_INDICATORS: tuple[str, ...] = ("funding_rate", "open_interest")
INDICATORS: tuple[str, ...] = SERIES_INDICATORS + SNAPSHOT_INDICATORS

DEFAULT_PERIODS: dict[str, int] = {
    "rsi": 14,
    "ema": 20,
    "sma": 20,
    "bb_upper": 20,
    "bb_lower": 20,
    "atr": 14,
    "price_change_pct": 1,
}
MAX_PERIOD = 500

COMPARISONS: tuple[str, ...] = (">", "<", ">=", "<=", "==")
CROSSINGS: tuple[str, ...] = ("crosses_above", "crosses_below")
OPERATORS: tuple[str, ...] = COMPARISONS + CROSSINGS
_DIRECTION_OPERATOR = {
    "threshold": {"above": ">", "below": "<"},
    "crossover": {"above": "crosses_above", "below": "crosses_below"},
}

# Candle patterns, by name only: a user never supplies a pattern of their own.
PATTERNS: tuple[str, ...] = (
    "bullish_engulfing",
    "bearish_engulfing",
    "breakout_high",
    "breakdown_low",
)
DEFAULT_PATTERN_LOOKBACK = 20

DEFAULT_INTERVAL = "1h"
DEFAULT_AVERAGE_PERIOD = 20

# ``ema_50``, ``bb_upper_20``; plain ``price``/``macd``/``macd_signal``/``macd_hist``.
_REFERENCE = re.compile(r"^(rsi|ema|sma|bb_upper|bb_lower|atr|price_change_pct)_([0-9]{1,3})$")
_PLAIN_REFERENCES = ("price", "macd", "macd_signal", "macd_hist")
# ``2x_avg``, ``1.5x_avg``: a multiple of the indicator's own recent average.
_AVERAGE_MULTIPLE = re.compile(r"^([0-9]{1,3}(?:\.[0-9]{1,4})?)x_avg$")


class ConfigError(ValueError):
    """A config the grammar refuses; ``field`` names the offending key (``config.x``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class IndicatorRef:
    """One indicator line: its name and period (``None`` where it has no period). A
    factor carries its expression: two users' custom factors may share a name, and a
    line is computed (and cached per frame) by what it is, never by its name alone."""

    name: str
    period: int | None
    expression: str | None = None

    @property
    def label(self) -> str:
        return self.name if self.period is None else f"{self.name}_{self.period}"


@dataclass(frozen=True, slots=True)
class AverageMultiple:
    factor: float
    period: int

    @property
    def label(self) -> str:
        return f"{self.factor:g}x_avg"


Threshold = float | IndicatorRef | AverageMultiple


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """A validated signal: ``indicator operator threshold`` on ``interval`` candles, or a
    named ``pattern`` over the last ``lookback`` candles."""

    type: SignalType
    indicator: IndicatorRef
    interval: str
    operator: str | None = None
    threshold: Threshold | None = None
    pattern: str | None = None
    lookback: int = DEFAULT_PATTERN_LOOKBACK

    def bars_needed(self) -> int:
        """Closed candles worth reading so every line involved is past its warm-up (the
        recursive averages keep converging for a few periods after it)."""
        periods = [self.indicator.period or 1, self.lookback if self.pattern else 1]
        if isinstance(self.threshold, IndicatorRef):
            periods.append(self.threshold.period or 1)
        if isinstance(self.threshold, AverageMultiple):
            periods.append(self.threshold.period + (self.indicator.period or 1))
        if "macd" in (self.indicator.name, getattr(self.threshold, "name", "")):
            periods.append(40)
        if self.indicator.expression is not None:
            periods.append(warmup_of(self.indicator.expression))
        return min(1000, max(60, 4 * max(periods) + 2))


def _text(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"config.{key}", f"{key} must be a string")
    return value.strip().lower()


def _period(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PERIOD:
        raise ConfigError(field, f"must be an integer from 1 to {MAX_PERIOD}")
    return value


def _indicator(config: dict[str, Any], custom: CustomFactors | None) -> IndicatorRef:
    name = _text(config, "indicator")
    if name is None:
        raise ConfigError("config.indicator", "indicator is required")
    if name.startswith(FACTOR_PREFIX):
        # A factor of the factor engine (docs/FACTORS.md), read on closed candles: a
        # built-in, or one of the signal owner's own custom factors.
        expression = expression_of(name.removeprefix(FACTOR_PREFIX), custom)
        if expression is None:
            raise ConfigError(
                "config.indicator",
                "factor:<name> must name a built-in factor or one of your custom factors",
            )
        return IndicatorRef(name, None, expression)
    if name not in INDICATORS:
        raise ConfigError("config.indicator", f"indicator must be one of {', '.join(INDICATORS)}")
    if name in DEFAULT_PERIODS:
        raw = config.get("period", DEFAULT_PERIODS[name])
        return IndicatorRef(name, _period(raw, "config.period"))
    return IndicatorRef(name, None)


def custom_factor_name(config: Any) -> str | None:
    """The name a config's ``factor:<name>`` gives when it is no built-in (so it can only
    be one of the owner's custom factors), else None."""
    indicator = config.get("indicator") if isinstance(config, dict) else None
    if not isinstance(indicator, str):
        return None
    text = indicator.strip().lower()
    if not text.startswith(FACTOR_PREFIX):
        return None
    name = text.removeprefix(FACTOR_PREFIX)
    return None if is_builtin(name) else name


def parse_reference(text: str) -> IndicatorRef | None:
    """``ema_50`` → IndicatorRef("ema", 50); ``price`` → IndicatorRef("price", None)."""
    if text in _PLAIN_REFERENCES:
        return IndicatorRef(text, None)
    match = _REFERENCE.match(text)
    if match is None:
        return None
    period = int(match.group(2))
    if not 1 <= period <= MAX_PERIOD:
        return None
    return IndicatorRef(match.group(1), period)


def _threshold(config: dict[str, Any], indicator: IndicatorRef) -> Threshold:
    key = "threshold" if config.get("threshold") is not None else "reference"
    value = config.get(key)
    field = f"config.{key}"
    if value is None:
        raise ConfigError("config.threshold", "threshold (or reference) is required")
    if isinstance(value, bool):
        raise ConfigError(field, "must be a number, an indicator such as ema_50, or Nx_avg")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ConfigError(field, "must be a finite number")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(field, "must be a number, an indicator such as ema_50, or Nx_avg")
    text = value.strip().lower()
    multiple = _AVERAGE_MULTIPLE.match(text)
    if multiple is not None:
        factor = float(multiple.group(1))
        if factor <= 0:
            raise ConfigError(field, "the multiple of the average must be above 0")
        if indicator.name in SNAPSHOT_INDICATORS:
            raise ConfigError(field, f"{indicator.name} has no history to average")
        raw = config.get("avg_period", DEFAULT_AVERAGE_PERIOD)
        return AverageMultiple(factor, _period(raw, "config.avg_period"))
    reference = parse_reference(text)
    if reference is not None:
        if indicator.name in SNAPSHOT_INDICATORS:
            raise ConfigError(field, f"{indicator.name} compares with numbers only")
        return reference
    raise ConfigError(
        field,
        "must be a number, an indicator (price, macd, macd_signal, macd_hist, or rsi/ema/"
        "sma/bb_upper/bb_lower/atr/price_change_pct followed by _<period>) or Nx_avg",
    )


def _operator(config: dict[str, Any], signal_type: str) -> str:
    operator = _text(config, "operator")
    direction = _text(config, "direction")
    if operator is None:
        if direction is None:
            raise ConfigError("config.operator", "operator (or direction) is required")
        mapped = _DIRECTION_OPERATOR[signal_type].get(direction)
        if mapped is None:
            raise ConfigError("config.direction", "direction must be above or below")
        return mapped
    if operator not in OPERATORS:
        raise ConfigError("config.operator", f"operator must be one of {', '.join(OPERATORS)}")
    if signal_type == "crossover" and operator not in CROSSINGS:
        raise ConfigError("config.operator", "a crossover signal uses crosses_above/below")
    if signal_type == "threshold" and operator not in COMPARISONS:
        raise ConfigError("config.operator", "crossings belong to type crossover")
    return operator


def _interval(config: dict[str, Any]) -> str:
    interval = config.get("interval", DEFAULT_INTERVAL)
    if not isinstance(interval, str) or interval not in INTERVALS:
        raise ConfigError("config.interval", f"interval must be one of {', '.join(INTERVALS)}")
    return interval


def is_signal_type(value: str) -> TypeGuard[SignalType]:
    return value in SIGNAL_TYPES


def parse_config(
    signal_type: str, config: Any, custom_factors: CustomFactors | None = None
) -> SignalSpec:
    """The spec of a stored or submitted signal; raises ``ConfigError`` naming the field.
    ``custom_factors`` are the signal owner's own (``factors/custom.py``)."""
    if not is_signal_type(signal_type):
        raise ConfigError("type", f"type must be one of {', '.join(SIGNAL_TYPES)}")
    if not isinstance(config, dict):
        raise ConfigError("config", "config must be an object")
    interval = _interval(config)
    if signal_type == "pattern":
        pattern = _text(config, "pattern")
        if pattern not in PATTERNS:
            raise ConfigError("config.pattern", f"pattern must be one of {', '.join(PATTERNS)}")
        lookback = _period(config.get("lookback", DEFAULT_PATTERN_LOOKBACK), "config.lookback")
        return SignalSpec(
            "pattern", IndicatorRef("price", None), interval, pattern=pattern, lookback=lookback
        )
    indicator = _indicator(config, custom_factors)
    operator = _operator(config, signal_type)
    if operator in CROSSINGS and indicator.name in SNAPSHOT_INDICATORS:
        raise ConfigError("config.operator", f"{indicator.name} supports comparisons only")
    return SignalSpec(
        signal_type,
        indicator,
        interval,
        operator=operator,
        threshold=_threshold(config, indicator),
    )


# --- inline signals (a pool created with ``signals: [...]``) ------------------------------

# Keys of an inline signal that describe the definition rather than its condition.
_DEFINITION_KEYS = frozenset({"name", "type", "enabled"})


@dataclass(frozen=True, slots=True)
class InlineSignal:
    """A signal written inside a pool: its type and config, ready to store."""

    type: SignalType
    config: dict[str, Any]
    spec: SignalSpec


def _inferred_type(config: dict[str, Any]) -> str:
    # The guide's inline signals carry no type: a pattern names one, a crossing operator
    # is a crossover, anything else compares with a threshold.
    if config.get("pattern") is not None:
        return "pattern"
    operator = config.get("operator")
    if isinstance(operator, str) and operator.strip().lower() in CROSSINGS:
        return "crossover"
    return "threshold"


def parse_inline_signal(
    element: dict[str, Any], custom_factors: Mapping[str, str] | None = None
) -> InlineSignal:
    """Either the signal-system guide's flat form (``{"indicator", "operator",
    "threshold", ...}``) or a definition's (``{"name"?, "type"?, "config"}``). Raises
    ``ConfigError`` whose field is relative to the element: ``operator`` in the flat form,
    ``config.operator`` in the other."""
    nested = "config" in element
    config = (
        element["config"]
        if nested
        else {key: value for key, value in element.items() if key not in _DEFINITION_KEYS}
    )
    if not isinstance(config, dict):
        raise ConfigError("config", "config must be an object")
    raw_type = element.get("type")
    if raw_type is not None and not isinstance(raw_type, str):
        raise ConfigError("type", f"type must be one of {', '.join(SIGNAL_TYPES)}")
    signal_type = raw_type.strip().lower() if raw_type is not None else _inferred_type(config)
    try:
        spec = parse_config(signal_type, config, custom_factors)
    except ConfigError as exc:
        if nested:
            raise
        raise ConfigError(exc.field.removeprefix("config."), exc.message) from None
    assert is_signal_type(signal_type)  # parse_config refused any other
    return InlineSignal(type=signal_type, config=dict(config), spec=spec)


def describe(spec: SignalSpec) -> str:
    """A readable name for a signal nobody named: ``rsi_14 < 35 (1h)``."""
    if spec.pattern is not None:
        return f"{spec.pattern} ({spec.interval})"
    threshold = spec.threshold
    shown = f"{threshold:g}" if isinstance(threshold, float) else getattr(threshold, "label", "")
    return f"{spec.indicator.label} {spec.operator} {shown} ({spec.interval})"
