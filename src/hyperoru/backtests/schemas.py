"""Request and response bodies of the program backtest routes (contract §12)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PlainValidator, WithJsonSchema

from hyperoru.api_types import (
    MAX_ID,
    JsonDecimal,
    RequestModel,
    ResponseModel,
    StoredOut,
    UtcTime,
)
from hyperoru.backtests.results import EquityPoint, MetricValue, ResultFields, TradeOut
from hyperoru.exchanges.base import MarginModeName
from hyperoru.market.intervals import INTERVAL_SECONDS, INTERVALS
from hyperoru.replay.settings import MARGIN_MODE_DOC, VENUE_RULES_DOC, ReplayVenue

MAX_SYMBOLS = 10
MAX_PARAMS_BYTES = 16 * 1024
MAX_TRIGGER = 30 * 86_400

BacktestStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
SmallId = Annotated[int, Field(ge=1, le=MAX_ID)]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")]
# ISO 8601 date or datetime (naive is UTC), or epoch seconds or milliseconds.
Moment = Annotated[str | int, Field(union_mode="left_to_right")]
# Percents: 0.05 means 0.05 %. The engine never fills further than 5 % from mid.
SlippagePercent = Annotated[Decimal, Field(ge=0, lt=5, description="0.05 means 0.05 %")]
FeePercent = Annotated[Decimal, Field(ge=0, le=1, description="0.045 means 0.045 %")]


def _trigger_seconds(value: Any) -> int:
    if isinstance(value, str) and value in INTERVAL_SECONDS:
        return INTERVAL_SECONDS[value]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TRIGGER:
        return value
    raise ValueError(
        f"seconds between decisions (1 to {MAX_TRIGGER}), or one of {', '.join(INTERVALS)}"
    )


# Seconds between decisions, as a trader's strategy gives them, or an interval ("4h").
TriggerSeconds = Annotated[
    int,
    PlainValidator(_trigger_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_TRIGGER},
                {"type": "string", "enum": list(INTERVALS)},
            ],
            "description": "seconds between decisions, or an interval such as 4h",
        }
    ),
]


def _small_params(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value)) > MAX_PARAMS_BYTES:
        raise ValueError(f"must be at most {MAX_PARAMS_BYTES} bytes as JSON")
    return value


class BacktestConfig(RequestModel):
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_SYMBOLS)]
    start_date: Moment
    end_date: Moment
    interval: Annotated[str, Field(max_length=8)] = "1h"
    initial_balance: Annotated[Decimal, Field(gt=0, le=Decimal("1e12"))] = Decimal(10000)
    slippage_pct: SlippagePercent | None = None
    maker_fee_pct: FeePercent | None = None
    taker_fee_pct: FeePercent | None = None
    trigger_interval: TriggerSeconds | None = None
    signal_pool_ids: Annotated[list[SmallId], Field(max_length=50)] | None = None
    # Replace the program's stored params for this run.
    params: Annotated[dict[str, Any], AfterValidator(_small_params)] | None = None
    # Take leverage and position limits (and fee overrides) from this trader.
    account_id: SmallId | None = None


class BacktestCreate(RequestModel):
    program_id: SmallId
    config: BacktestConfig
    account_id: SmallId | None = Field(default=None, description="same as config.account_id")


class ProgramBacktestConfigOut(StoredOut):
    """The config as resolved at submit time (defaults filled in): what the job runs."""

    symbols: list[str] = Field(default_factory=list)
    start_date: UtcTime | None = None
    end_date: UtcTime | None = None
    interval: str | None = None
    initial_balance: float | None = None
    slippage_pct: float | None = Field(default=None, description="percent: 0.05 means 0.05 %")
    maker_fee_pct: float | None = None
    taker_fee_pct: float | None = None
    trigger_interval: int | None = Field(
        default=None, description="seconds between decisions; null when only pools trigger"
    )
    signal_pool_ids: list[int] = Field(default_factory=list)
    candles_per_symbol: int | None = None
    max_leverage: int | None = None
    default_leverage: int | None = None
    venue: ReplayVenue | None = Field(
        default=None, description=VENUE_RULES_DOC + " (null for runs stored before it)"
    )
    margin_mode: MarginModeName | None = Field(default=None, description=MARGIN_MODE_DOC)
    signal_pools: list[dict[str, Any]] = Field(
        default_factory=list, description="the pools and their signals as frozen at submit time"
    )
    imported_symbols: dict[str, str] = Field(
        default_factory=dict, description="symbol → the imported candle dataset it runs on"
    )


class BacktestBrief(ResponseModel):
    """The ``backtest`` object of the documented response."""

    id: int
    status: BacktestStatus
    account_id: int | None
    program_id: int
    started_at: UtcTime | None
    finished_at: UtcTime | None
    total_pnl: JsonDecimal | None
    total_trades: int | None
    win_rate: JsonDecimal | None


class BacktestSummaryOut(ResultFields):
    """A backtest without its equity curve and trade list (what the history lists)."""

    id: int
    status: BacktestStatus
    progress: float = Field(description="0 to 100")
    progress_pct: float = Field(description="same as progress")
    program_id: int
    program_name: str
    account_id: int | None
    code_sha256: str = Field(description="SHA-256 of the program source the job runs")
    config: ProgramBacktestConfigOut
    attempts: int
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    error: str | None
    status_url: str
    trades_url: str = Field(description="the trade list, paged")
    equity_url: str = Field(description="the equity curve, paged")
    metrics: dict[str, MetricValue] = Field(description="every metric the replay computed")
    backtest: BacktestBrief


class BacktestOut(BacktestSummaryOut):
    """One backtest; the long parts are left out unless ``include`` names them (by
    default all three are in: contract §12 shows them on this route)."""

    equity_curve: list[EquityPoint] | None = Field(
        default=None, description="null until completed; at most 2,000 points"
    )
    trades: list[TradeOut] = Field(default_factory=list)
    logs: list[str] = Field(default_factory=list, description="the program's data.log lines")
