"""The indicators a program may ask for by name (``data.get_indicator``), with the periods
each accepts, and the one check of such a request.

Standard library only: the program sandboxes import it (live runs and backtests alike) to
refuse a bad request inside the program, where the user sees the message, instead of
answering ``None`` for ever. The computations themselves are ``hyperoru.market.indicators``,
reached by name through ``hyperoru.replay.series``.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_PERIOD = 2
MAX_PERIOD = 500


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """``default`` is used when a program omits the period; ``prepared`` are the periods a
    live cycle computes before the program starts (any other is computed on request)."""

    default: int
    prepared: tuple[int, ...]
    min_period: int = MIN_PERIOD


SPECS: dict[str, IndicatorSpec] = {
    "rsi": IndicatorSpec(14, (7, 14, 21)),
    "ema": IndicatorSpec(20, (5, 10, 20, 50, 100, 200)),
    "sma": IndicatorSpec(20, (5, 10, 20, 50, 100, 200)),
    "atr": IndicatorSpec(14, (7, 14, 21)),
    "bb_upper": IndicatorSpec(20, (20,)),
    "bb_middle": IndicatorSpec(20, (20,)),
    "bb_lower": IndicatorSpec(20, (20,)),
    # A change over one bar is the most common one: its range starts at 1.
    "price_change_pct": IndicatorSpec(1, (1, 4, 24), min_period=1),
}
# MACD is 12/26/9 only: its lines take no period.
MACD_LINES: tuple[str, ...] = ("macd", "macd_signal", "macd_hist")
NAMES: tuple[str, ...] = (*SPECS, *MACD_LINES)


class IndicatorRequestError(ValueError):
    """A request no indicator answers: an unknown name, or a period that is not a whole
    number in the indicator's range. The message names both and says what is allowed."""


def resolve(name: object, period: object = None) -> tuple[str, int | None]:
    """``(name, period)`` as a program wrote them → the canonical ``(name, period)``:
    the name in lower case, the default period filled in (``None`` for MACD lines).
    Raises ``IndicatorRequestError``."""
    if not isinstance(name, str):
        raise IndicatorRequestError(
            f"get_indicator: the indicator name must be a string such as 'sma', "
            f"not {type(name).__name__}"
        )
    key = name.lower()
    if key in MACD_LINES:
        if period is not None:
            raise IndicatorRequestError(
                f"get_indicator: {key!r} is MACD 12/26/9 and takes no period (got {period!r})"
            )
        return key, None
    spec = SPECS.get(key)
    if spec is None:
        raise IndicatorRequestError(
            f"get_indicator: unknown indicator {name!r}; known: {', '.join(NAMES)}"
        )
    if period is None:
        return key, spec.default
    # bool is an int to Python, never a period to a user.
    if isinstance(period, bool) or not isinstance(period, int):
        raise IndicatorRequestError(
            f"get_indicator: the period of {key!r} must be a whole number from "
            f"{spec.min_period} to {MAX_PERIOD}, not {period!r} ({type(period).__name__})"
        )
    if not spec.min_period <= period <= MAX_PERIOD:
        raise IndicatorRequestError(
            f"get_indicator: period {period} of {key!r} is outside the allowed range "
            f"{spec.min_period} to {MAX_PERIOD}"
        )
    return key, period


def label(name: str, period: int | None) -> str:
    """The key of a resolved request in a live cycle's table: ``sma:30``, ``macd``."""
    return name if period is None else f"{name}:{period}"
