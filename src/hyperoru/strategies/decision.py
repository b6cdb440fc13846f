"""Strict parsing of a model's answer into normalised decisions.

Both documented schemas are accepted — the program guide's (``long|short|hold``,
``size_pct`` 0–100, ``*_pct`` exits, ``reasoning``) and the concepts page's (``buy|sell|
close|hold``, ``target_portion_of_balance`` 0–1, absolute exit prices, ``reason``) — and
mapped onto one ``Decision``. The answer must be JSON (optionally inside one fenced code
block); anything else is a parse failure. Nothing is guessed with regular expressions and
no value is clamped here: limits are the risk rules' job, so they can reject with a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Operation = Literal["long", "short", "close", "hold"]

# buy/sell are the concepts page's words for opening long/short exposure on a net position.
_OPERATIONS: dict[str, Operation] = {
    "long": "long",
    "buy": "long",
    "short": "short",
    "sell": "short",
    "close": "close",
    "hold": "hold",
}
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n(.*?)```", re.DOTALL)
MAX_DECISIONS = 20


class DecisionParseError(ValueError):
    """The model's answer is not a usable decision; the message says why."""


@dataclass(frozen=True, slots=True)
class Decision:
    operation: Operation
    symbol: str | None = None
    leverage: Decimal | None = None
    # Fraction of available balance in (0, 1]; ``size_pct`` is divided by 100.
    size_fraction: Decimal | None = None
    take_profit_pct: Decimal | None = None
    stop_loss_pct: Decimal | None = None
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    max_price: Decimal | None = None
    min_price: Decimal | None = None
    reasoning: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "symbol": self.symbol,
            "leverage": _plain(self.leverage),
            "size_fraction": _plain(self.size_fraction),
            "take_profit_pct": _plain(self.take_profit_pct),
            "stop_loss_pct": _plain(self.stop_loss_pct),
            "take_profit_price": _plain(self.take_profit_price),
            "stop_loss_price": _plain(self.stop_loss_price),
            "max_price": _plain(self.max_price),
            "min_price": _plain(self.min_price),
            "reasoning": self.reasoning,
        }


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _reject_constant(name: str) -> Any:
    raise DecisionParseError(f"{name} is not a number a decision may contain")


def _json_text(output: str) -> str:
    text = output.strip()
    if not text:
        raise DecisionParseError("the model returned no content")
    if text.startswith("```") or "```" in text:
        fenced = _FENCE.search(text if text.endswith("\n") else text + "\n")
        if fenced is None:
            raise DecisionParseError("the model's code block is not closed")
        return fenced.group(1).strip()
    return text


def _number(raw: Mapping[str, Any], key: str) -> Decimal | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise DecisionParseError(f"'{key}' must be a number, not a boolean")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise DecisionParseError(f"'{key}' must be a number, got {value!r}") from None
    else:
        raise DecisionParseError(f"'{key}' must be a number")
    if not number.is_finite():
        raise DecisionParseError(f"'{key}' must be finite")
    return number


def normalise(raw: Mapping[str, Any]) -> Decision:
    """One decision object of either documented schema → ``Decision``."""
    if not isinstance(raw, Mapping):
        raise DecisionParseError("each decision must be a JSON object")
    operation_raw = raw.get("operation", raw.get("action"))
    if not isinstance(operation_raw, str) or operation_raw.strip().lower() not in _OPERATIONS:
        raise DecisionParseError(
            f"'operation' must be one of {sorted(_OPERATIONS)}, got {operation_raw!r}"
        )
    operation = _OPERATIONS[operation_raw.strip().lower()]
    symbol_raw = raw.get("symbol")
    if symbol_raw is not None and not isinstance(symbol_raw, str):
        raise DecisionParseError("'symbol' must be a string")
    symbol = symbol_raw.strip().upper() if symbol_raw else None
    if operation != "hold" and not symbol:
        raise DecisionParseError(f"'symbol' is required for '{operation}'")

    size_pct = _number(raw, "size_pct")
    portion = _number(raw, "target_portion_of_balance")
    if size_pct is not None and portion is not None:
        raise DecisionParseError("send 'size_pct' or 'target_portion_of_balance', not both")
    size_fraction = size_pct / 100 if size_pct is not None else portion

    reasoning = raw.get("reasoning", raw.get("reason", ""))
    if not isinstance(reasoning, str):
        reasoning = json.dumps(reasoning, default=str)
    return Decision(
        operation=operation,
        symbol=symbol,
        leverage=_number(raw, "leverage"),
        size_fraction=size_fraction,
        take_profit_pct=_number(raw, "take_profit_pct"),
        stop_loss_pct=_number(raw, "stop_loss_pct"),
        take_profit_price=_number(raw, "take_profit_price"),
        stop_loss_price=_number(raw, "stop_loss_price"),
        max_price=_number(raw, "max_price"),
        min_price=_number(raw, "min_price"),
        reasoning=reasoning,
    )


def parse_model_output(output: str) -> list[Decision]:
    """Decisions from a model's answer: one object, a list, or ``{"decisions": [...]}``,
    bare or inside a fenced code block. Raises DecisionParseError otherwise."""
    text = _json_text(output)
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except DecisionParseError:
        raise
    except (ValueError, RecursionError) as exc:
        raise DecisionParseError(f"the model's answer is not valid JSON: {exc}") from None
    if isinstance(document, Mapping) and "decisions" in document:
        document = document["decisions"]
    items = document if isinstance(document, list) else [document]
    if len(items) > MAX_DECISIONS:
        raise DecisionParseError(f"at most {MAX_DECISIONS} decisions per answer")
    return [normalise(item) for item in items]
