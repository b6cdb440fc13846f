"""The ``builtin`` offline model: published, deterministic trend-plus-RSI rules that
answer in the decision JSON, so a trader works without any API key or network.

It reads the structured ``ModelContext`` the caller passes beside the prompt, never the
prompt's prose. The rules, thresholds and an example are in ``docs/BUILTIN_MODEL.md``,
which must change with them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hyperoru.market import indicators
from hyperoru.offload import off_loop
from hyperoru.strategies.llm.base import (
    LlmError,
    LlmErrorKind,
    LlmRequest,
    LlmResponse,
    ModelContext,
    SymbolFacts,
    TokenUsage,
)

MODEL_NAME = "builtin-trend-rsi-v1"
# The same rules on minute closes, for `hyperoru serve --demo`: a newcomer should see
# trades within minutes, not hours. A trader opts in with llm_model = DEMO_MODEL_NAME.
DEMO_MODEL_NAME = "builtin-demo-fast-v1"

CloseInterval = Literal["1h", "1m"]
_CLOSES: dict[CloseInterval, str] = {"1h": "hourly closes", "1m": "minute closes"}


@dataclass(frozen=True, slots=True)
class BuiltinRules:
    name: str = MODEL_NAME
    # Which closes of ``SymbolFacts`` the indicators read.
    interval: CloseInterval = "1h"
    fast_ema: int = 20
    slow_ema: int = 50
    rsi_period: int = 14
    # Entries: a long when the fast EMA is above the slow one and RSI is in
    # [long_rsi_min, long_rsi_max); a short mirrors it. Outside those bands the move is
    # either unconfirmed or already stretched.
    long_rsi_min: float = 50.0
    long_rsi_max: float = 70.0
    short_rsi_min: float = 30.0
    short_rsi_max: float = 50.0
    # Exits: the trend turned, or RSI reached an extreme in the position's favour.
    long_exit_rsi: float = 75.0
    short_exit_rsi: float = 25.0
    size_pct: int = 10
    stop_loss_pct: float = 2
    take_profit_pct: float = 4

    @property
    def min_bars(self) -> int:
        return max(self.slow_ema, self.rsi_period + 1)


DEFAULT_RULES = BuiltinRules()
# Minute EMAs 5/15 and RSI 7 fit in the 20 minute closes a cycle reads; stops and targets
# are a few minutes of simulated volatility, so positions close and reopen all the time.
DEMO_RULES = BuiltinRules(
    name=DEMO_MODEL_NAME,
    interval="1m",
    fast_ema=5,
    slow_ema=15,
    rsi_period=7,
    size_pct=10,
    stop_loss_pct=0.3,
    take_profit_pct=0.4,
)
_RULES_BY_MODEL = {rules.name: rules for rules in (DEFAULT_RULES, DEMO_RULES)}


def rules_for_model(llm_model: str | None) -> BuiltinRules:
    """The published rules a builtin trader asked for by model name; the default ones for
    any other name (the field is free text for remote models)."""
    return _RULES_BY_MODEL.get(llm_model or "", DEFAULT_RULES)


@dataclass(frozen=True, slots=True)
class _Reading:
    fast: float
    slow: float
    rsi: float

    @property
    def trend(self) -> str:
        if self.fast > self.slow:
            return "up"
        return "down" if self.fast < self.slow else "flat"

    def describe(self, rules: BuiltinRules) -> str:
        relation = {"up": ">", "down": "<", "flat": "="}[self.trend]
        return (
            f"EMA{rules.fast_ema} {self.fast:.6g} {relation} EMA{rules.slow_ema} "
            f"{self.slow:.6g}, RSI{rules.rsi_period} {self.rsi:.1f}"
        )


def _reading(closes: tuple[float, ...], rules: BuiltinRules) -> _Reading:
    series = np.asarray(closes, dtype=np.float64)
    return _Reading(
        fast=float(indicators.ema(series, rules.fast_ema)[-1]),
        slow=float(indicators.ema(series, rules.slow_ema)[-1]),
        rsi=float(indicators.rsi(series, rules.rsi_period)[-1]),
    )


def _hold(symbol: str, reason: str) -> dict[str, Any]:
    return {"operation": "hold", "symbol": symbol, "reasoning": reason}


def _exit_reason(side: str, reading: _Reading, rules: BuiltinRules) -> str | None:
    if side == "long":
        if reading.trend != "up":
            return "trend no longer up"
        if reading.rsi >= rules.long_exit_rsi:
            return f"RSI at or above {rules.long_exit_rsi:g}: take the profit"
    else:
        if reading.trend != "down":
            return "trend no longer down"
        if reading.rsi <= rules.short_exit_rsi:
            return f"RSI at or below {rules.short_exit_rsi:g}: take the profit"
    return None


def _entry_side(reading: _Reading, rules: BuiltinRules) -> str | None:
    if reading.trend == "up" and rules.long_rsi_min <= reading.rsi < rules.long_rsi_max:
        return "long"
    if reading.trend == "down" and rules.short_rsi_min < reading.rsi <= rules.short_rsi_max:
        return "short"
    return None


def decide(context: ModelContext, rules: BuiltinRules = DEFAULT_RULES) -> list[dict[str, Any]]:
    """One decision per symbol, in the order given. Pure and deterministic."""
    leverage = max(1, min(context.default_leverage, context.max_leverage))
    open_count = context.open_positions
    decisions: list[dict[str, Any]] = []
    for facts in context.symbols:
        decisions.append(_decide_symbol(facts, rules, leverage, context, open_count))
        if decisions[-1]["operation"] in ("long", "short"):
            open_count += 1
    return decisions


def _decide_symbol(
    facts: SymbolFacts,
    rules: BuiltinRules,
    leverage: int,
    context: ModelContext,
    open_count: int,
) -> dict[str, Any]:
    symbol = facts.symbol
    closes = facts.closes_1m if rules.interval == "1m" else facts.closes_1h
    if facts.price is None or len(closes) < rules.min_bars:
        return _hold(
            symbol, f"not enough data: need {rules.min_bars} {_CLOSES[rules.interval]} and a price"
        )
    reading = _reading(closes, rules)
    described = reading.describe(rules)
    if facts.position_side is not None:
        reason = _exit_reason(facts.position_side, reading, rules)
        if reason is not None:
            return {
                "operation": "close",
                "symbol": symbol,
                "reasoning": f"close {facts.position_side}: {reason} ({described})",
            }
        return _hold(symbol, f"keep the {facts.position_side}: {described}")
    side = _entry_side(reading, rules)
    if side is None:
        return _hold(symbol, f"no entry signal: {described}")
    if context.max_open_positions is not None and open_count >= context.max_open_positions:
        return _hold(symbol, f"{side} signal, but the open-position limit is reached: {described}")
    return {
        "operation": side,
        "symbol": symbol,
        "leverage": leverage,
        "size_pct": rules.size_pct,
        "stop_loss_pct": rules.stop_loss_pct,
        "take_profit_pct": rules.take_profit_pct,
        "reasoning": f"{side} entry: trend {reading.trend} with RSI in band ({described})",
    }


class BuiltinModel:
    """``LlmClient`` that runs ``decide`` on the request's context; no network at all."""

    def __init__(
        self, rules: BuiltinRules = DEFAULT_RULES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rules = rules
        self._clock = clock

    @property
    def model_name(self) -> str:
        return self._rules.name

    @property
    def rules(self) -> BuiltinRules:
        return self._rules

    async def complete(self, request: LlmRequest) -> LlmResponse:
        if request.context is None:
            raise LlmError(
                LlmErrorKind.MISCONFIGURED,
                "the builtin model needs the market context; the caller sent none",
            )
        started = self._clock()
        decisions = await off_loop(decide, request.context, self._rules)  # indicator work
        text = json.dumps({"decisions": decisions}, indent=2)
        return LlmResponse(
            text=text,
            model=self._rules.name,
            usage=TokenUsage(),
            latency_ms=int((self._clock() - started) * 1000),
        )
