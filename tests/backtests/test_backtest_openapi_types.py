"""The backtest routes' declared answers send amounts as JSON numbers (contract §1): in
their OpenAPI response schemas every money, price, size and ratio field is a number."""

from __future__ import annotations

from typing import Any

import httpx

PREFIXES = ("/api/backtests", "/api/programs/backtest", "/api/prompt-backtest")
NUMERIC = {
    "total_pnl",
    "total_pnl_percent",
    "win_rate",
    "profit_factor",
    "sharpe_ratio",
    "max_drawdown_pct",
    "final_equity",
    "initial_balance",
    "slippage_pct",
    "maker_fee_pct",
    "taker_fee_pct",
    "quantity",
    "entry_price",
    "exit_price",
    "realized_pnl",
    "fees",
    "funding",
    "pnl",
    "equity",
    "leverage",
    "size_fraction",
    "take_profit_price",
    "stop_loss_price",
    "limit_price",
    "filled_quantity",
    "average_price",
    "progress",
}


def _types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        return {t for option in schema["anyOf"] for t in _types(option)}
    return {schema.get("type", "?")}


def _walk(node: Any, schemas: dict[str, Any], where: str, seen: set[str]) -> tuple[int, list[str]]:
    """(numeric fields checked, the ones declared as anything but a number)."""
    if isinstance(node, list):
        results = [_walk(item, schemas, where, seen) for item in node]
        return sum(n for n, _ in results), [b for _, bad in results for b in bad]
    if not isinstance(node, dict):
        return 0, []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return 0, []
        return _walk(schemas[name], schemas, name, seen | {name})
    checked, bad = 0, []
    for name, field in node.get("properties", {}).items():
        if name in NUMERIC:
            checked += 1
            if not _types(field) <= {"number", "integer", "null"}:
                bad.append(f"{where}.{name}: {field}")
    for value in node.values():
        n, more = _walk(value, schemas, where, seen)
        checked, bad = checked + n, bad + more
    return checked, bad


async def test_every_amount_in_a_backtest_answer_is_a_number(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    answers = checked = 0
    offenders: list[str] = []
    for route, operations in spec["paths"].items():
        if not route.startswith(PREFIXES):
            continue
        for method, operation in operations.items():
            for status, answer in operation.get("responses", {}).items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None and status.startswith("2"):
                    answers += 1
                    n, bad = _walk(schema, schemas, f"{method} {route}", set())
                    checked, offenders = checked + n, offenders + bad
    assert answers >= 12  # both kinds: submit, poll, list, trades, equity, snapshots...
    assert checked >= 100, checked
    assert not offenders, offenders
    # The free-form metrics map holds numbers only.
    metrics = schemas["BacktestSummaryOut"]["properties"]["metrics"]["additionalProperties"]
    assert _types(metrics) <= {"number", "integer", "null"}
    point = schemas["EquityPoint"]["properties"]
    assert set(point) == {"timestamp", "equity"}
