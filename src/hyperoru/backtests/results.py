"""The results both kinds of backtest report (contract §12): the replay's metrics as
top-level fields, and the fingerprint. Program and prompt backtests share them, so a
script reads one the way it reads the other."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import Field

from hyperoru.api_types import JsonDecimal, ResponseModel

DECIMAL_METRICS = (
    "total_pnl",
    "total_pnl_percent",
    "win_rate",
    "profit_factor",
    "sharpe_ratio",
    "max_drawdown_pct",
    "final_equity",
)


class ResultFields(ResponseModel):
    """Null until the backtest completes."""

    total_pnl: JsonDecimal | None = None
    total_pnl_percent: JsonDecimal | None = None
    total_trades: int | None = None
    win_rate: JsonDecimal | None = None
    profit_factor: JsonDecimal | None = None
    sharpe_ratio: JsonDecimal | None = None
    max_drawdown_pct: JsonDecimal | None = None
    final_equity: JsonDecimal | None = None
    fingerprint: str | None = Field(default=None, description="SHA-256 over the trade list")


def _decimal(value: Any) -> Decimal | None:
    # The replay writes money as strings and ratios as numbers; an undefined ratio (a
    # profit factor without losses) may be null or a non-finite marker.
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def result_fields(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``ResultFields`` of a completed job's stored result (``metrics``,
    ``fingerprint``); all null for any other."""
    if not result:
        return {}
    metrics: Mapping[str, Any] = result.get("metrics") or {}
    trades = metrics.get("total_trades")
    return {
        **{name: _decimal(metrics.get(name)) for name in DECIMAL_METRICS},
        "total_trades": int(trades) if isinstance(trades, int | float) else None,
        "fingerprint": result.get("fingerprint"),
    }
