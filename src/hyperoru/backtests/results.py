"""The results both kinds of backtest report (contract §12): the replay's metrics as
top-level fields and as ``metrics``, the fingerprint, the trades and the equity curve.
Program and prompt backtests share them, so a script reads one the way it reads the other.

The replay stores money as exact decimal strings (the fingerprint is computed over them);
the API sends JSON numbers and ``Z`` times (contract §1), converted here on the way out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import Field

from hyperoru.api_types import JsonDecimal, ResponseModel, UtcTime

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


# Counts stay integers; every other metric is a number (or null when undefined).
MetricValue = int | JsonDecimal | None


def metric_values(metrics: Mapping[str, Any] | None) -> dict[str, MetricValue]:
    """Every metric the replay computed, as numbers."""
    return {
        name: value if isinstance(value, int) and not isinstance(value, bool) else _decimal(value)
        for name, value in (metrics or {}).items()
    }


class TradeOut(ResponseModel):
    """A round trip (docs/BACKTESTS.md, "Results"). The fingerprint is over the stored
    exact values, not over these numbers."""

    symbol: str
    side: str = Field(description="long or short")
    quantity: JsonDecimal = Field(description="the largest size held")
    entry_time: UtcTime
    entry_price: JsonDecimal
    exit_time: UtcTime | None
    exit_price: JsonDecimal | None
    exit_reason: str | None = Field(description="signal, take_profit, stop_loss, liquidation")
    realized_pnl: JsonDecimal
    fees: JsonDecimal
    funding: JsonDecimal
    pnl: JsonDecimal = Field(description="net: realized_pnl - fees - funding")
    fill_ids: list[int]


class EquityPoint(ResponseModel):
    # ``timestamp`` as every other curve of the contract (the asset curve, candles); the
    # replay names it ``time``.
    timestamp: UtcTime
    equity: JsonDecimal


def trades_out(trades: Sequence[Mapping[str, Any]] | None) -> list[TradeOut]:
    return [TradeOut.model_validate(trade) for trade in trades or ()]


def equity_out(curve: Sequence[Mapping[str, Any]] | None) -> list[EquityPoint]:
    return [
        EquityPoint.model_validate(
            {"timestamp": point.get("timestamp", point.get("time")), "equity": point["equity"]}
        )
        for point in curve or ()
    ]
