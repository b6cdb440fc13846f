"""Request and response bodies of /api/prompt-backtests (and the /api/prompt-backtest/tasks
spelling of the generated reference)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from hyperoru.api_types import (
    MAX_ID,
    JsonDecimal,
    RequestModel,
    ResponseModel,
    StoredOut,
    UtcTime,
)
from hyperoru.backtests.results import (
    EquityPoint,
    MetricValue,
    ResultFields,
    TradeOut,
    WireTime,
)
from hyperoru.exchanges.base import MarginModeName
from hyperoru.replay.settings import MARGIN_MODE_DOC, VENUE_RULES_DOC, ReplayVenue
from hyperoru.strategies.schemas import ParsedDecisionOut

FeePercent = Annotated[Decimal, Field(ge=0, le=1, max_digits=12)]
# The engine caps a taker fill at 5 % from mid: a larger slippage could never fill.
SlippagePercent = Annotated[Decimal, Field(ge=0, lt=5, max_digits=12)]
Moment = Annotated[str | int, Field(union_mode="left_to_right")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class PromptBacktestConfig(RequestModel):
    """The documented config; ``start``/``end`` are accepted for ``start_date``/``end_date``.
    Fees and slippage are percents (0.045 means 0.045 %); without them the trader's own
    fee rates (or its venue's) apply and slippage is 0.05 %."""

    symbols: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=20
    )
    start_date: Moment | None = None
    start: Moment | None = None
    end_date: Moment | None = None
    end: Moment | None = None
    interval: str = Field(default="4h", max_length=8)
    initial_balance: Decimal = Field(default=Decimal(10000), gt=0, le=10**9, max_digits=24)
    slippage_pct: SlippagePercent | None = None
    maker_fee_pct: FeePercent | None = None
    taker_fee_pct: FeePercent | None = None


class PromptBacktestCreate(RequestModel):
    prompt_id: Id | None = None
    account_id: Id | None = None
    trader_id: Id | None = None
    config: PromptBacktestConfig


class OrderViewOut(StoredOut):
    """The order a decision became."""

    symbol: str | None = None
    side: str | None = None
    order_type: str | None = None
    quantity: float | None = None
    limit_price: float | None = None
    leverage: float | None = None
    reduce_only: bool | None = None
    take_profit_price: float | None = None
    stop_loss_price: float | None = None


class ExecutionOut(StoredOut):
    status: str | None = None
    time: WireTime | None = None
    filled_quantity: float | None = None
    average_price: float | None = None
    reject_code: str | None = None
    message: str | None = None
    reason: str | None = None


class OutcomeOut(StoredOut):
    """What came of one decision: checked at the next open, placed, executed."""

    operation: str | None = None
    symbol: str | None = None
    approved: bool | None = None
    reason: str | None = None
    order_id: int | None = None
    order: OrderViewOut | None = None
    execution: ExecutionOut | None = None


class SnapshotOut(ResponseModel):
    bar_index: int
    time: UtcTime
    status: Literal["ok", "failed"]
    cached: bool
    prompt_digest: str
    raw_output: str | None
    decisions: list[ParsedDecisionOut]
    outcomes: list[OutcomeOut]
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int


class SnapshotDetailOut(SnapshotOut):
    rendered_prompt: str


class ResolvedConfigOut(ResponseModel):
    """The config as resolved at submit time (defaults filled in, the end cut to the last
    closed candle)."""

    symbols: list[str]
    interval: str
    start_date: UtcTime
    end_date: UtcTime
    initial_balance: JsonDecimal
    slippage_pct: JsonDecimal = Field(description="percent: 0.05 means 0.05 %")
    maker_fee_pct: JsonDecimal
    taker_fee_pct: JsonDecimal
    venue: ReplayVenue | None = Field(
        default=None, description=VENUE_RULES_DOC + " (null for runs stored before it)"
    )
    margin_mode: MarginModeName | None = Field(default=None, description=MARGIN_MODE_DOC)


class PromptBacktestOut(ResultFields):
    """When completed, the same result fields as a program backtest."""

    id: int
    task_id: int
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    # Percent done, 0–100 (both names: ``progress`` as documented, ``progress_pct`` as
    # the other jobs of this server).
    progress: float
    progress_pct: float
    sample_count: int
    snapshots_done: int
    account_id: int
    trader_id: int
    prompt_id: int
    prompt_name: str
    symbols: list[str]
    interval: str
    start_date: UtcTime
    end_date: UtcTime
    initial_balance: JsonDecimal
    config: ResolvedConfigOut
    dataset: str
    llm_provider: str | None
    llm_model: str | None
    # Cost: model calls made, answers replayed from the cache, and tokens spent.
    calls: int
    cached_calls: int
    failed_snapshots: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    attempts: int
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    error: str | None
    status_url: str
    snapshots_url: str
    trades_url: str = Field(description="the trade list, paged")
    equity_url: str = Field(description="the equity curve, paged")
    metrics: dict[str, MetricValue] | None = Field(
        default=None, description="every metric the replay computed; null until completed"
    )


class PromptBacktestDetailOut(PromptBacktestOut):
    """One backtest; the long parts are in only when ``include`` names them."""

    equity_curve: list[EquityPoint] | None = Field(default=None, description="null until completed")
    trades: list[TradeOut] | None = Field(default=None, description="null until completed")
    # The first snapshots (see ``snapshots_url`` for all of them, with rendered prompts).
    decisions: list[SnapshotOut] = Field(default_factory=list)
