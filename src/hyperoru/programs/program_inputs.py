"""The plain data a program's ``data`` object is built from, computed here in the server
from one cycle's ``DecisionInputs`` (the same sources prompts use) with the one indicator
module, then sent to the sandbox as JSON. Floats are fine here: nothing in this payload
reaches a ledger; the program's decision comes back and is parsed into Decimals.

The candle rows, indicator table and regime of every symbol are computed off the event
loop (``hyperoru.offload``), in one call once the candles are read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hyperoru.market import indicators
from hyperoru.market.providers.base import Candle
from hyperoru.market.regime import DEFAULT_RULES as REGIME_RULES
from hyperoru.market.regime import classify_regime
from hyperoru.offload import off_loop
from hyperoru.replay.series import CATALOG, MACD_LINES
from hyperoru.strategies.variables import INDICATOR_INTERVAL, SAMPLING_INTERVAL, DecisionInputs
from hyperoru.timeutils import isoformat_z

Series = np.ndarray


def _last(series: Series) -> float | None:
    return float(series[-1]) if series.size and np.isfinite(series[-1]) else None


def _columns(candles: Sequence[Candle]) -> tuple[Series, Series, Series]:
    def column(name: str) -> Series:
        return np.array([float(getattr(c, name)) for c in candles], dtype=np.float64)

    return column("close"), column("high"), column("low")


def indicator_table(candles: Sequence[Candle]) -> dict[str, float | None]:
    """``name:period`` (and ``name`` for the default period) → the last value, or None
    during the warm-up. MACD 12/26/9 is ``macd``, ``macd_signal``, ``macd_hist``."""
    close, high, low = _columns(candles)
    table: dict[str, float | None] = {}
    for name, (periods, default, compute) in CATALOG.items():
        for period in periods:
            value = _last(compute(close, high, low, period)) if close.size > period else None
            table[f"{name}:{period}"] = value
        table[name] = table[f"{name}:{default}"]
    lines = indicators.macd(close) if close.size else None
    for key, attribute in MACD_LINES.items():
        table[key] = _last(getattr(lines, attribute)) if lines is not None else None
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


def _market_part(
    windows: Sequence[tuple[str, Sequence[Candle], Sequence[Candle]]],
) -> _MarketPart:
    """Candle rows, indicator table and regime of each (symbol, hourly, minute candles)."""
    part = _MarketPart({}, {}, {})
    for symbol, hourly, minutes in windows:
        part.klines[symbol] = {
            INDICATOR_INTERVAL: _rows(hourly),
            SAMPLING_INTERVAL: _rows(minutes),
        }
        part.indicators[symbol] = indicator_table(hourly)
        part.regimes[symbol] = _regime(hourly)
    return part


async def program_payload(inputs: DecisionInputs) -> dict[str, Any]:
    """Everything ``data`` offers, for the cycle's symbols. Raises what DecisionInputs
    raises (``ProviderError`` for market data)."""
    prices: dict[str, float] = {}
    windows: list[tuple[str, Sequence[Candle], Sequence[Candle]]] = []
    for symbol in inputs.symbols:
        prices[symbol] = float((await inputs.price(symbol)).ticker.mark)
        hourly = await inputs.candles(symbol, INDICATOR_INTERVAL)
        minutes = await inputs.candles(symbol, SAMPLING_INTERVAL)
        windows.append((symbol, hourly, minutes))
    market = await off_loop(_market_part, windows)
    balance = await inputs.balance()
    trigger = inputs.trigger
    return {
        "symbols": list(inputs.symbols),
        "now": isoformat_z(inputs.now),
        "prices": prices,
        "klines": market.klines,
        "indicators": market.indicators,
        "regimes": market.regimes,
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
