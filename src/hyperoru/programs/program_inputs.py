"""The plain data a program's ``data`` object is built from, computed here in the server
from one cycle's ``DecisionInputs`` (the same sources prompts use) with the one indicator
module, then sent to the sandbox as JSON. Floats are fine here: nothing in this payload
reaches a ledger; the program's decision comes back and is parsed into Decimals.

The candle rows, indicator table and regime of every symbol are computed off the event
loop (``hyperoru.offload``), in one call once the candles are read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hyperoru.factors.lines import CustomFactors, latest_from_candles
from hyperoru.market import indicator_catalog as catalog
from hyperoru.market.providers.base import Candle
from hyperoru.market.regime import DEFAULT_RULES as REGIME_RULES
from hyperoru.market.regime import classify_regime
from hyperoru.offload import off_loop
from hyperoru.replay.series import compute_series
from hyperoru.strategies.variables import INDICATOR_INTERVAL, SAMPLING_INTERVAL, DecisionInputs
from hyperoru.timeutils import isoformat_z

Series = np.ndarray
# Enough hourly candles for the longest period a program may ask for to be past its
# warm-up (RSI and ATR need one bar more than their period).
HOURLY_BARS = catalog.MAX_PERIOD + 1
# A sandbox run may ask for this many indicators the cycle did not prepare at a time.
MAX_REQUESTS_PER_ROUND = 16


def _last(series: Series) -> float | None:
    return float(series[-1]) if series.size and np.isfinite(series[-1]) else None


def _columns(candles: Sequence[Candle]) -> tuple[Series, Series, Series]:
    def column(name: str) -> Series:
        return np.array([float(getattr(c, name)) for c in candles], dtype=np.float64)

    return column("close"), column("high"), column("low")


def row_columns(rows: Sequence[Sequence[Any]]) -> tuple[Series, Series, Series]:
    """close, high, low of the payload's candle rows ``[time, open, high, low, close,
    volume]``: the same floats ``_columns`` makes of the candles they were written from."""
    table = np.array([row[2:5] for row in rows], dtype=np.float64).reshape(-1, 3)
    return table[:, 2].copy(), table[:, 0].copy(), table[:, 1].copy()


Request = tuple[str, int | None]


def _prepared() -> list[Request]:
    """What every live cycle computes up front: the periods the guide has always listed
    and the MACD lines; any other period is computed when a program asks for it."""
    listed = [(name, p) for name, spec in catalog.SPECS.items() for p in spec.prepared]
    return listed + [(name, None) for name in catalog.MACD_LINES]


PREPARED = _prepared()


def indicator_values(
    columns: tuple[Series, Series, Series], requests: Iterable[Request]
) -> dict[str, float | None]:
    """``label(name, period)`` → the last value of each resolved request, or None during
    the warm-up."""
    close, high, low = columns
    values: dict[str, float | None] = {}
    for name, period in requests:
        series = compute_series(name, period, close, high, low) if close.size else close
        values[catalog.label(name, period)] = _last(series)
    return values


def indicator_table(candles: Sequence[Candle]) -> dict[str, float | None]:
    """The prepared requests (``PREPARED``) over ``candles``; each name alone is its
    default period's value too (``rsi`` = ``rsi:14``)."""
    table = indicator_values(_columns(candles), PREPARED)
    for name, spec in catalog.SPECS.items():
        table[name] = table[catalog.label(name, spec.default)]
    return table


def _regime(candles: Sequence[Candle]) -> dict[str, Any] | None:
    if len(candles) < REGIME_RULES.min_bars:
        return None
    close, high, low = _columns(candles)
    reading = classify_regime(high, low, close)
    return None if reading is None else {**asdict(reading), "regime": reading.regime.value}


def _rows(candles: Sequence[Candle]) -> list[list[Any]]:
    return [
        [isoformat_z(c.open_time), *(float(v) for v in (c.open, c.high, c.low, c.close, c.volume))]
        for c in candles
    ]


@dataclass(frozen=True, slots=True)
class _MarketPart:
    klines: dict[str, dict[str, list[list[Any]]]]
    indicators: dict[str, dict[str, float | None]]
    regimes: dict[str, dict[str, Any] | None]
    factors: dict[str, dict[str, float | None]]


def _market_part(
    windows: Sequence[tuple[str, Sequence[Candle], Sequence[Candle]]],
    factors: CustomFactors | None,
) -> _MarketPart:
    """Candle rows, indicator table and regime of each (symbol, hourly, minute candles),
    and, when ``factors`` is given (the factor engine is on), the last values of the
    built-ins and of those custom factors."""
    part = _MarketPart({}, {}, {}, {})
    for symbol, hourly, minutes in windows:
        part.klines[symbol] = {
            INDICATOR_INTERVAL: _rows(hourly),
            SAMPLING_INTERVAL: _rows(minutes),
        }
        part.indicators[symbol] = indicator_table(hourly)
        part.regimes[symbol] = _regime(hourly)
        if factors is not None:
            part.factors[symbol] = latest_from_candles(hourly, custom=factors)
    return part


def with_indicators(payload: dict[str, Any], wanted: Iterable[Any]) -> dict[str, Any]:
    """``payload`` with the indicators a sandbox run asked for and did not find, each
    ``[symbol, name, period]``, computed over the payload's own hourly rows (the candles
    its prepared values came from). The requests come from the user's program: anything
    unusable is skipped (the program's own check reports it), and at most
    ``MAX_REQUESTS_PER_ROUND`` are computed."""
    rows = payload.get("klines", {})
    grouped: dict[str, list[Request]] = {}
    for item in list(wanted)[:MAX_REQUESTS_PER_ROUND]:
        try:
            symbol, name, period = item
            request = catalog.resolve(name, period)
        except (TypeError, ValueError):
            continue
        if isinstance(symbol, str) and INDICATOR_INTERVAL in rows.get(symbol, {}):
            grouped.setdefault(symbol, []).append(request)
    tables = {symbol: dict(table) for symbol, table in payload.get("indicators", {}).items()}
    for symbol, requests in grouped.items():
        columns = row_columns(rows[symbol][INDICATOR_INTERVAL])
        tables.setdefault(symbol, {}).update(indicator_values(columns, requests))
    return {**payload, "indicators": tables}


async def program_payload(inputs: DecisionInputs, *, with_factors: bool = False) -> dict[str, Any]:
    """Everything ``data`` offers, for the cycle's symbols (``get_factor``'s values, the
    built-ins and the trader owner's custom factors, only with the factor engine on).
    Raises what DecisionInputs raises (``ProviderError`` for
    market data)."""
    prices: dict[str, float] = {}
    windows: list[tuple[str, Sequence[Candle], Sequence[Candle]]] = []
    for symbol in inputs.symbols:
        prices[symbol] = float((await inputs.price(symbol)).ticker.mark)
        hourly = await inputs.candles(symbol, INDICATOR_INTERVAL, HOURLY_BARS)
        minutes = await inputs.candles(symbol, SAMPLING_INTERVAL)
        windows.append((symbol, hourly, minutes))
    factors = await inputs.custom_factors() if with_factors else None
    market = await off_loop(_market_part, windows, factors)
    balance = await inputs.balance()
    trigger = inputs.trigger
    return {
        "symbols": list(inputs.symbols),
        "now": isoformat_z(inputs.now),
        "prices": prices,
        "klines": market.klines,
        "indicators": market.indicators,
        "regimes": market.regimes,
        "factors": market.factors,
        "positions": [
            {
                "symbol": p.symbol,
                "side": p.side,
                "size": float(p.size),
                "entry_price": float(p.entry_price),
                "mark_price": float(p.mark_price),
                "leverage": p.leverage,
                "unrealized_pnl": float(p.unrealized_pnl),
                "opened_at": isoformat_z(p.opened_at),
            }
            for p in await inputs.open_positions()
        ],
        "balance": None
        if balance is None
        else {
            "total": float(balance.total),
            "available": float(balance.available),
            "margin_used": float(balance.margin_used),
            "unrealized_pnl": float(balance.unrealized_pnl),
        },
        "trigger": {
            "type": trigger.kind,
            "signal_pool_id": trigger.signal_pool_id,
            # Signal values are whatever the pool recorded: made plain JSON here.
            "values": json.loads(json.dumps(dict(trigger.values), default=str)),
        },
        "max_leverage": inputs.account.max_leverage,
        "default_leverage": inputs.account.default_leverage,
    }
