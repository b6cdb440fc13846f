"""Signal pools replayed over past candles, for backtests: at which decision times would a
pool have fired, and with which values?

The same ``step_pool`` as the live runtime runs at every decision time, on frames of the
closed candles of each signal's interval whose close is at or before that time (no live
price: in the past every candle is closed, so a crossing is read from one closed candle
to the next). A frame is reused until its interval closes another candle, so each
indicator line is computed once per closed candle, however fine the backtest's bars.

Pools are frozen into plain data when a backtest is submitted (``PoolSnapshot``), so a
rerun replays the same definitions even after the user edits them.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hyperoru.market.intervals import step
from hyperoru.market.providers.base import Candle
from hyperoru.signals.config import ConfigError, custom_factor_name, parse_config
from hyperoru.signals.evaluator import Frame, PoolRules, PoolSignal, step_pool
from hyperoru.signals.models import SignalDefinition, SignalPool


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """A pool and its signal definitions as they were at submit time."""

    pool_id: int
    name: str
    logic: str
    cooldown_seconds: int
    symbols: tuple[str, ...]
    # {"id", "name", "type", "config", "custom_factors"}: the owner's custom factors a
    # signal reads (name → expression), frozen with it.
    signals: tuple[dict[str, Any], ...]

    @classmethod
    def of(
        cls,
        pool: SignalPool,
        definitions: Mapping[int, SignalDefinition],
        custom_factors: Mapping[str, str] | None = None,
    ) -> PoolSnapshot:
        """Only enabled definitions of the pool's owner count, as in the live runtime;
        ``custom_factors`` are the owner's own."""
        signals = []
        for signal_id in pool.signal_ids:
            definition = definitions.get(signal_id)
            if definition is None or not definition.enabled:
                continue
            if definition.user_id != pool.user_id:
                continue
            signals.append(
                {
                    "id": definition.id,
                    "name": definition.name,
                    "type": definition.type,
                    "config": dict(definition.config),
                    "custom_factors": _read_factors(definition.config, custom_factors or {}),
                }
            )
        return cls(
            pool_id=pool.id,
            name=pool.name,
            logic=pool.logic,
            cooldown_seconds=pool.cooldown_seconds,
            symbols=tuple(pool.symbols),
            signals=tuple(signals),
        )

    def to_plain(self) -> dict[str, Any]:
        return {
            "pool_id": self.pool_id,
            "name": self.name,
            "logic": self.logic,
            "cooldown_seconds": self.cooldown_seconds,
            "symbols": list(self.symbols),
            "signals": [dict(s) for s in self.signals],
        }

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> PoolSnapshot:
        return cls(
            pool_id=int(plain["pool_id"]),
            name=str(plain["name"]),
            logic=str(plain["logic"]),
            cooldown_seconds=int(plain["cooldown_seconds"]),
            symbols=tuple(plain["symbols"]),
            signals=tuple(dict(s) for s in plain["signals"]),
        )

    def rules(self) -> PoolRules:
        signals = []
        for signal in self.signals:
            try:
                spec = parse_config(signal["type"], signal["config"], signal.get("custom_factors"))
            except ConfigError:  # stored before a grammar change: skipped, as live
                continue
            signals.append(PoolSignal(signal["id"], signal["name"], signal["config"], spec))
        return PoolRules(
            symbols=self.symbols,
            logic=self.logic,
            cooldown=timedelta(seconds=self.cooldown_seconds),
            signals=tuple(signals),
        )

    def needs(self) -> dict[tuple[str, str], int]:
        """(symbol, interval) → closed candles each evaluation reads (the warm-up)."""
        wanted: dict[tuple[str, str], int] = {}
        for signal in self.rules().signals:
            for symbol in self.symbols:
                key = (symbol, signal.spec.interval)
                wanted[key] = max(wanted.get(key, 0), signal.spec.bars_needed())
        return wanted


def _read_factors(config: Mapping[str, Any], custom: Mapping[str, str]) -> dict[str, str]:
    name = custom_factor_name(config)
    return {name: custom[name]} if name is not None and name in custom else {}


def merged_needs(pools: Sequence[PoolSnapshot]) -> dict[tuple[str, str], int]:
    wanted: dict[tuple[str, str], int] = {}
    for pool in pools:
        for key, count in pool.needs().items():
            wanted[key] = max(wanted.get(key, 0), count)
    return wanted


class _Frames:
    """Frames at a moment: the last ``bars`` candles closed by then, built once per newly
    closed candle and shared by every pool and signal reading that series."""

    def __init__(
        self,
        candles: Mapping[tuple[str, str], Sequence[Candle]],
        bars: Mapping[tuple[str, str], int],
    ) -> None:
        self._candles = candles
        self._bars = bars
        self._closes = {
            key: [c.open_time + step(key[1]) for c in rows] for key, rows in candles.items()
        }
        self._cache: dict[tuple[str, str], tuple[int, Frame | None]] = {}
        self.now: datetime | None = None

    def __call__(self, symbol: str, interval: str) -> Frame | None:
        key = (symbol, interval)
        closes = self._closes.get(key)
        if closes is None or self.now is None:
            return None
        count = bisect.bisect_right(closes, self.now)  # candles closed at or before now
        cached = self._cache.get(key)
        if cached is not None and cached[0] == count:
            return cached[1]
        window = self._candles[key][max(0, count - self._bars[key]) : count]
        frame = Frame(window, None) if window else None
        self._cache[key] = (count, frame)
        return frame


def replay_firings(
    pools: Sequence[PoolSnapshot],
    candles: Mapping[tuple[str, str], Sequence[Candle]],
    times: Sequence[datetime],
) -> dict[int, dict[str, Any]]:
    """Decision index → the trigger of the first pool (lowest id) that fired then.

    ``times`` are the decision times in order (a backtest's bar closes); ``candles`` holds
    each needed (symbol, interval) series, oldest first, starting early enough for the
    warm-up (``merged_needs``). Each pool starts with no baseline, as a new live pool
    does: its first evaluation never fires.
    """
    ordered = sorted(pools, key=lambda p: p.pool_id)
    rules = {p.pool_id: p.rules() for p in ordered}
    frames = _Frames(candles, merged_needs(ordered))
    condition: dict[int, dict[str, bool]] = {p.pool_id: {} for p in ordered}
    last_fired: dict[int, datetime | None] = {p.pool_id: None for p in ordered}
    firings: dict[int, dict[str, Any]] = {}
    for index, now in enumerate(times):
        frames.now = now
        for pool in ordered:
            outcome = step_pool(
                rules[pool.pool_id],
                frames,
                condition=condition[pool.pool_id],
                last_fired_at=last_fired[pool.pool_id],
                now=now,
            )
            condition[pool.pool_id] = outcome.condition
            if not outcome.fired_symbols:
                continue
            last_fired[pool.pool_id] = now
            if index not in firings:
                firings[index] = {
                    "type": "signal",
                    "signal_pool_id": pool.pool_id,
                    "values": {
                        "pool_id": pool.pool_id,
                        "pool_name": pool.name,
                        "logic": pool.logic,
                        "symbols": list(outcome.fired_symbols),
                        "signals": list(outcome.entries),
                    },
                }
    return firings
