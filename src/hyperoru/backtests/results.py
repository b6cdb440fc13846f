"""The results both kinds of backtest report (contract §12): the replay's metrics as
top-level fields and as ``metrics``, the fingerprint, the trades and the equity curve.
Program and prompt backtests share them, so a script reads one the way it reads the other.

The replay stores money as exact decimal strings (the fingerprint is computed over them);
the API sends JSON numbers and ``Z`` times (contract §1), converted here on the way out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

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


# Counts stay integers; every other metric is a number (or null when undefined).
MetricValue = int | JsonDecimal | None


def metric_values(metrics: Mapping[str, Any] | None) -> dict[str, MetricValue]:
    """Every metric the replay computed, as numbers."""
    return {
        name: value if isinstance(value, int) and not isinstance(value, bool) else _decimal(value)
        for name, value in (metrics or {}).items()
    }


# Stored trades and curve points hold exact decimal strings and ``Z`` times (the replay's
# own form). They leave as JSON numbers: one validation call parses the decimal text of a
# whole list into floats (the correctly rounded nearest doubles), where a validator per
# value (Decimal, then a serializer) cost several times as much for a finished backtest.
WireTime = Annotated[
    str, Field(json_schema_extra={"format": "date-time"}, description="ISO 8601, UTC, Z")
]


class TradeOut(ResponseModel):
    """A round trip (docs/BACKTESTS.md, "Results"). The fingerprint is over the stored
    exact values, not over these numbers."""

    symbol: str
    side: str = Field(description="long or short")
    quantity: float = Field(description="the largest size held")
    entry_time: WireTime
    entry_price: float
    exit_time: WireTime | None = Field(description="null while open")
    exit_price: float | None
    exit_reason: str | None = Field(description="signal, take_profit, stop_loss, liquidation")
    realized_pnl: float
    fees: float
    funding: float = Field(description="paid; negative when received")
    pnl: float = Field(description="net: realized_pnl - fees - funding")
    fill_ids: list[int]


class EquityPoint(ResponseModel):
    # ``timestamp`` as every other curve of the contract (the asset curve, candles); the
    # replay names it ``time``.
    timestamp: WireTime
    equity: float


_TRADES = TypeAdapter(list[TradeOut])
_CURVE = TypeAdapter(list[EquityPoint])


def trades_out(trades: Sequence[Mapping[str, Any]] | None) -> list[TradeOut]:
    return _TRADES.validate_python(trades or [])


def equity_out(curve: Sequence[Mapping[str, Any]] | None) -> list[EquityPoint]:
    return _CURVE.validate_python(
        [
            {"timestamp": point.get("timestamp", point.get("time")), "equity": point["equity"]}
            for point in curve or ()
        ]
    )


_METRICS = TypeAdapter(dict[str, MetricValue])


def results_json(result: Mapping[str, Any]) -> dict[str, Any]:
    """A replay's metrics, trades and curve in the API's JSON style, for output that is
    not an API answer (``hyperoru backtest --json``): one style wherever results are read."""
    return {
        "metrics": _METRICS.dump_python(metric_values(result.get("metrics")), mode="json"),
        "fingerprint": result.get("fingerprint"),
        "trades": _TRADES.dump_python(trades_out(result.get("trades")), mode="json"),
        "equity_curve": _CURVE.dump_python(equity_out(result.get("equity_curve")), mode="json"),
    }
