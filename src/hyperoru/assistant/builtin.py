"""The ``builtin`` assistant: an offline model that answers a fixed set of questions
(docs/ASSISTANT.md) through the same tools a remote model calls, so that the assistant
works, and is tested, without a key.

Its intent comes only from the user's own latest message. What tools returned (names,
reasoning text, market data) is read as JSON data to word the answer and is never
matched against the questions, so text inside a decision cannot make it call a tool.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hyperoru.assistant.chat_model import (
    ChatMessage,
    ModelEvent,
    TextDelta,
    ToolRequest,
    UsageReport,
)

BUILTIN_NAME = "builtin"
_ID = r"#?(\d{1,9})"


@dataclass(frozen=True, slots=True)
class Question:
    example: str
    pattern: re.Pattern[str]
    tool: str
    arguments: Callable[[re.Match[str]], dict[str, Any]]


def _days(word: str | None) -> int:
    return {"day": 1, "week": 7, "month": 30, "year": 365}.get((word or "month").lower(), 30)


def _backtest_args(match: re.Match[str]) -> dict[str, Any]:
    args: dict[str, Any] = {"program_id": int(match["id"]), "days": _days(match["span"])}
    if match["symbol"]:
        args["symbols"] = [match["symbol"].upper()]
    return args


_SPAN = r"(?:.*\blast\s+(?P<span>day|week|month|year))?"


def _trader_days(match: re.Match[str]) -> dict[str, Any]:
    args: dict[str, Any] = {"days": _days(match["span"])}
    if match["id"]:
        args["trader_id"] = int(match["id"])
    return args


QUESTIONS: tuple[Question, ...] = (
    Question(
        "show the metrics of trader 3 over the last week",
        re.compile(
            r"\b(metrics|performance|stats|statistics|pnl|analytics)\b.*"
            r"\btrader\s+#?(?P<id>\d{1,9})" + _SPAN,
            re.I,
        ),
        "trader_metrics",
        _trader_days,
    ),
    Question(
        "AI attribution of trader 3 (over the last month)",
        re.compile(r"\battribution\b(?:.*\btrader\s+#?(?P<id>\d{1,9}))?" + _SPAN, re.I),
        "ai_attribution",
        _trader_days,
    ),
    Question(
        "analytics summary over the last month",
        re.compile(r"\b(analytics|summary|how am i doing)\b" + _SPAN, re.I),
        "analytics_summary",
        lambda m: {"days": _days(m["span"])},
    ),
    Question(
        "list my factors",
        re.compile(r"\b(list|show)\b.*\bfactors\b", re.I),
        "list_factors",
        lambda m: {},
    ),
    Question(
        "effectiveness of factor momentum_1d",
        re.compile(r"\beffectiveness\b.*\bfactor\s+(?P<name>[A-Za-z][A-Za-z0-9_]{0,63})", re.I),
        "factor_effectiveness",
        lambda m: {"factor_name": m["name"].lower()},
    ),
    Question(
        "list my AI traders",
        re.compile(r"\b(list|show|which are)\b.*\btraders\b", re.I),
        "list_traders",
        lambda m: {},
    ),
    Question(
        "show positions of trader 3",
        re.compile(rf"\bpositions?\b.*\btrader\s+{_ID}", re.I),
        "list_positions",
        lambda m: {"trader_id": int(m[1])},
    ),
    Question(
        "show trades of trader 3",
        re.compile(rf"\b(trades|fills)\b.*\btrader\s+{_ID}", re.I),
        "list_trades",
        lambda m: {"trader_id": int(m[2])},
    ),
    Question(
        "show decisions of trader 3",
        re.compile(rf"\bdecisions\b.*\btrader\s+{_ID}", re.I),
        "list_decisions",
        lambda m: {"trader_id": int(m[1])},
    ),
    Question(
        "explain decision 12",
        re.compile(rf"\b(explain|why)\b.*\bdecision\s+{_ID}", re.I),
        "explain_decision",
        lambda m: {"decision_id": int(m[2])},
    ),
    Question(
        "list my programs",
        re.compile(r"\b(list|show)\b.*\bprograms\b", re.I),
        "list_programs",
        lambda m: {},
    ),
    Question(
        "validate program 4",
        re.compile(rf"\b(validate|check)\b.*\bprogram\s+{_ID}", re.I),
        "validate_program",
        lambda m: {"program_id": int(m[2])},
    ),
    Question(
        "backtest program 4 over the last month (on ETH)",
        re.compile(
            r"\bbacktest\b.*\bprogram\s+(?P<id>\d{1,9})"
            r"(?:.*\blast\s+(?P<span>day|week|month|year))?"
            r"(?:.*\bon\s+(?P<symbol>[A-Za-z]{2,10})\b)?",
            re.I,
        ),
        "start_backtest",
        _backtest_args,
    ),
    Question(
        "result of backtest 7",
        re.compile(rf"\b(result|status)\b.*\bbacktest\s+{_ID}", re.I),
        "backtest_result",
        lambda m: {"backtest_id": int(m[2])},
    ),
    Question(
        'draft a prompt named "BTC dip buyer"',
        re.compile(
            r"\bdraft\b.*\bprompt\b(?:.*\b(?:named|called)\s+\"?(?P<name>[^\"]{1,60})\"?)?", re.I
        ),
        "draft_prompt",
        lambda m: {"name": (m["name"] or "Assistant prompt").strip(), "content": DRAFT_PROMPT},
    ),
)

DRAFT_PROMPT = (
    "You trade {symbols}. Prices: {market_prices}. Indicators: {technical_indicators}. "
    "Open positions: {open_positions}. Account: {account_state}. Regime: {market_regime}. "
    "Decide one action per symbol and answer in this format: {output_format}"
)

HELP = (
    "I am the builtin assistant. I can answer these questions: "
    + "; ".join(f'"{q.example}"' for q in QUESTIONS)
    + "."
)


def _latest_user_text(messages: Sequence[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


def _tool_results(messages: Sequence[ChatMessage]) -> list[tuple[str, Any]]:
    """(tool name, result) for the tool messages after the latest user message."""
    names: dict[str, str] = {}
    found: list[tuple[str, Any]] = []
    for message in messages:
        if message.get("role") == "user":
            names, found = {}, []
        for call in message.get("tool_calls") or ():
            names[call["id"]] = call["function"]["name"]
        if message.get("role") == "tool":
            try:
                data = json.loads(message.get("content") or "null")
            except ValueError:
                data = None
            found.append((names.get(message.get("tool_call_id", ""), ""), data))
    return found


def _unwrap(data: Any) -> tuple[str, Any]:
    """(status, result) of a tool message written by ``agent.tool_message``."""
    if isinstance(data, Mapping):
        return str(data.get("status", "")), data.get("data")
    return "", None


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


class BuiltinAssistant:
    """Round one: pick the tool the question names (or answer with help). Round two: word
    the tool's result."""

    @property
    def model_name(self) -> str:
        return BUILTIN_NAME

    async def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[Mapping[str, Any]]
    ) -> AsyncIterator[ModelEvent]:
        for event in self._answer(messages, tools):
            yield event
        yield UsageReport(0)  # runs here: it spends none of the user's tokens

    def _answer(
        self, messages: Sequence[ChatMessage], tools: Sequence[Mapping[str, Any]]
    ) -> list[ModelEvent]:
        results = _tool_results(messages)
        if results:
            text = " ".join(_describe(name, *_unwrap(data)) for name, data in results)
            return [TextDelta(word) for word in _words(text)]
        question_text = _latest_user_text(messages)
        offered = {t["function"]["name"] for t in tools}
        for question in QUESTIONS:
            match = question.pattern.search(question_text)
            if match and question.tool in offered:
                arguments = json.dumps(question.arguments(match))
                return [ToolRequest("builtin_1", question.tool, arguments)]
        return [TextDelta(word) for word in _words(HELP)]


def _describe(tool: str, status: str, data: Any) -> str:
    if status == "refused":
        return "I did not run that action: it needs your confirmation. Ask me again to run it."
    if status != "ok" or not isinstance(data, Mapping):
        message = data.get("message") if isinstance(data, Mapping) else None
        return f"That did not work: {message or 'no answer'}."
    describe = _DESCRIBERS.get(tool)
    return describe(data) if describe else json.dumps(data)


def _traders(data: Mapping[str, Any]) -> str:
    traders = data.get("traders") or []
    if not traders:
        return "You have no AI traders yet."
    names = ", ".join(
        f"{t['name']} (#{t['id']}, {t['account_type']}, {t['status']})" for t in traders
    )
    return f"You have {len(traders)} AI trader{'s' if len(traders) != 1 else ''}: {names}."


def _positions(data: Mapping[str, Any]) -> str:
    positions = data.get("positions") or []
    if not positions:
        return f"Trader #{data.get('trader_id')} has no open positions."
    shown = ", ".join(
        f"{p['side']} {p['size']} {p['symbol']} at {p['entry_price']}" for p in positions
    )
    return f"Trader #{data.get('trader_id')} holds: {shown}."


def _trades(data: Mapping[str, Any]) -> str:
    return f"Trader #{data.get('trader_id')} has {len(data.get('trades') or [])} recent fills."


def _decisions(data: Mapping[str, Any]) -> str:
    decisions = data.get("decisions") or []
    ids = ", ".join(f"#{d['id']} ({d['status']})" for d in decisions)
    return f"Trader #{data.get('trader_id')}'s latest decisions: {ids or 'none yet'}."


def _explanation(data: Mapping[str, Any]) -> str:
    first = (data.get("decisions") or [{}])[0]
    operation = first.get("operation", "no operation") if isinstance(first, Mapping) else "?"
    symbol = first.get("symbol", "") if isinstance(first, Mapping) else ""
    executed = "was executed" if data.get("executed") else "was not executed"
    # Quoted as the model wrote it: the user reads it, nothing here acts on it.
    reasoning = json.dumps(data.get("reasoning") or "")
    return (
        f"Decision #{data.get('id')} chose {operation} {symbol} and {executed}. "
        f"The trader's model gave this reasoning (quoted): {reasoning}."
    )


def _programs(data: Mapping[str, Any]) -> str:
    found = data.get("programs") or []
    names = ", ".join(f"{p['name']} (#{p['id']})" for p in found)
    return f"Your programs: {names}." if found else "You have no programs yet."


def _validation(data: Mapping[str, Any]) -> str:
    if data.get("valid"):
        return f"Program #{data.get('program_id')} is valid."
    errors = "; ".join(f"line {e['line']}: {e['message']}" for e in data.get("errors") or [])
    return f"Program #{data.get('program_id')} has problems: {errors}."


def _backtest(data: Mapping[str, Any]) -> str:
    backtest_id, status = data.get("backtest_id"), data.get("status")
    text = f"Backtest #{backtest_id} of {data.get('program_name')} is {status}."
    metrics = data.get("metrics") or {}
    if metrics:
        text += " " + ", ".join(f"{k}: {v}" for k, v in sorted(metrics.items())[:8]) + "."
    elif status != "completed":
        text += f' Ask "result of backtest {backtest_id}" later for its metrics.'
    return text


def _draft(data: Mapping[str, Any]) -> str:
    return f'Saved a new draft prompt "{data.get("name")}" (#{data.get("prompt_id")}).'


def _n(value: Any) -> str:
    """A number as the tool gave it (the API's own value), or n/a."""
    return "n/a" if value is None else str(value)


def _summary(data: Mapping[str, Any]) -> str:
    returns = data.get("returns") or {}
    return (
        f"Over the last {data.get('days')} days: {data.get('trades')} closed trades, "
        f"win rate {_n(data.get('win_rate'))}, PnL {_n(data.get('total_pnl'))}, "
        f"profit factor {_n(data.get('profit_factor'))}, Sharpe ratio "
        f"{_n(data.get('sharpe_ratio'))} ({_n(returns.get('periods_per_year'))} periods a "
        f"year), max drawdown {_n(data.get('max_drawdown_pct'))}%."
    )


def _metrics(data: Mapping[str, Any]) -> str:
    return (
        f"Trader #{data.get('trader_id')} ({data.get('account_name')}) over the last "
        f"{data.get('days')} days: {data.get('trades')} closed trades ({data.get('wins')} won, "
        f"{data.get('losses')} lost), win rate {_n(data.get('win_rate'))}, PnL "
        f"{_n(data.get('pnl'))}, profit factor {_n(data.get('profit_factor'))}, fees paid "
        f"{_n(data.get('fees_paid'))}."
    )


def _attribution(data: Mapping[str, Any]) -> str:
    who = f"Trader #{data['trader_id']}" if data.get("trader_id") else "Your traders"
    confidence = data.get("confidence") or {}
    return (
        f"{who} over the last {data.get('days')} days: {data.get('decisions')} decisions, "
        f"{data.get('judged_decisions')} judged by their trades, accuracy "
        f"{_n(data.get('decision_accuracy'))}, stated confidence vs PnL correlation "
        f"{_n(confidence.get('correlation_with_pnl'))}, total PnL {_n(data.get('total_pnl'))}."
    )


def _factors(data: Mapping[str, Any]) -> str:
    builtin = data.get("builtin") or {}
    counts = ", ".join(f"{category} {len(names)}" for category, names in builtin.items())
    total = sum(len(names) for names in builtin.values())
    custom = data.get("custom") or []
    mine = "; ".join(f"{f['name']} = {f['expression']}" for f in custom)
    return f"{total} built-in factors ({counts}). Your custom factors: {mine or 'none yet'}."


def _effectiveness(data: Mapping[str, Any]) -> str:
    return (
        f"Factor {data.get('factor_name')} ({data.get('source')}): IC {_n(data.get('ic'))}, "
        f"rank IC {_n(data.get('rank_ic'))}, win rate {_n(data.get('win_rate'))}, half-life "
        f"{_n(data.get('half_life_bars'))} bars, over {data.get('periods')} periods of "
        f"{data.get('interval')} bars ({data.get('kind')})."
    )


_DESCRIBERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "analytics_summary": _summary,
    "trader_metrics": _metrics,
    "ai_attribution": _attribution,
    "list_factors": _factors,
    "factor_effectiveness": _effectiveness,
    "list_traders": _traders,
    "get_trader": lambda d: _traders({"traders": [d]}),
    "list_positions": _positions,
    "list_trades": _trades,
    "list_decisions": _decisions,
    "explain_decision": _explanation,
    "list_programs": _programs,
    "validate_program": _validation,
    "start_backtest": _backtest,
    "backtest_result": _backtest,
    "draft_prompt": _draft,
}
