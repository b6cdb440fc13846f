"""The answers of /api/analytics: the documented fields of every variant, and ours."""

from __future__ import annotations

from hyperoru.api_types import JsonDecimal, ResponseModel, UtcTime
from hyperoru.strategies.schemas import DecisionOut
from hyperoru.trading.schemas import OrderOut


class TradeStatsOut(ResponseModel):
    trades: int
    total_trades: int
    wins: int
    losses: int
    win_rate: float | None
    pnl: JsonDecimal
    total_pnl: JsonDecimal
    gross_profit: JsonDecimal
    gross_loss: JsonDecimal
    profit_factor: float | None
    avg_return_pct: float | None
    avg_trade_pnl: JsonDecimal | None
    best_trade_pnl: JsonDecimal | None
    worst_trade_pnl: JsonDecimal | None
    avg_trade_duration_hours: float | None
    fees_paid: JsonDecimal
    funding_paid: JsonDecimal


class DrawdownOut(ResponseModel):
    peak_at: UtcTime | None
    trough_at: UtcTime | None
    recovered_at: UtcTime | None
    duration_hours: float | None


class ReturnsOut(ResponseModel):
    period: str
    periods_per_year: int
    risk_free_rate: float
    count: int
    values: list[float]
    start_equity: float | None
    end_equity: float | None
    first_boundary: UtcTime | None
    last_boundary: UtcTime | None


class SummaryOut(TradeStatsOut):
    sharpe_ratio: float | None
    sortino_ratio: float | None
    annual_volatility: float | None
    annualized_return: float | None
    calmar_ratio: float | None
    max_drawdown_pct: float | None
    max_drawdown: DrawdownOut
    returns: ReturnsOut
    days: int
    since: UtcTime
    until: UtcTime
    traders: int


class StrategyRow(TradeStatsOut):
    strategy: str
    prompt_id: int | None
    program_id: int | None


class AccountRow(TradeStatsOut):
    account_id: int
    account_name: str | None


class SymbolRow(TradeStatsOut):
    symbol: str


class OperationRow(TradeStatsOut):
    operation: str


class TriggerTypeRow(TradeStatsOut):
    trigger_type: str


class FactorRow(ResponseModel):
    """One factor (a built-in or the caller's custom one) against the caller's closed
    trades (docs/ANALYTICS.md)."""

    rank: int
    factor_name: str
    category: str
    trades: int
    rank_ic: float | None
    ic: float | None
    aligned_trades: int
    aligned_pnl: JsonDecimal
    aligned_win_rate: float | None
    opposed_trades: int
    opposed_pnl: JsonDecimal
    opposed_win_rate: float | None


class ProgramFactorsOut(ResponseModel):
    """A program's factor correlation (docs/ANALYTICS.md, "Program factor correlation")."""

    program_id: int
    days: int
    since: UtcTime
    until: UtcTime
    interval: str
    trades: int
    factors: list[FactorRow]


class ConfidenceBucketOut(ResponseModel):
    min_confidence: float
    max_confidence: float
    decisions: int
    accuracy: float | None
    pnl: JsonDecimal


class ConfidenceOut(ResponseModel):
    decisions_with_confidence: int
    correlation_with_pnl: float | None
    buckets: list[ConfidenceBucketOut]


class VariableRow(ResponseModel):
    variable: str
    decisions: int
    winning_decisions: int
    losing_decisions: int
    accuracy: float | None
    pnl: JsonDecimal


class RegimeRow(ResponseModel):
    regime: str
    decisions: int
    winning_decisions: int
    losing_decisions: int
    accuracy: float | None
    pnl: JsonDecimal


class ModelRow(TradeStatsOut):
    model: str
    decisions: int


class AttributionOut(ResponseModel):
    trader_id: int | None
    account_id: int | None
    days: int
    since: UtcTime
    until: UtcTime
    decisions: int
    failed_decisions: int
    executed_decisions: int
    decision_distribution: dict[str, int]
    judged_decisions: int
    decision_accuracy: float | None
    confidence: ConfidenceOut
    context_utilization: list[VariableRow]
    regimes: list[RegimeRow]
    models: list[ModelRow]
    total_pnl: JsonDecimal


class ExecutionTimeOut(ResponseModel):
    avg: float | None
    p99: float | None
    max: float | None
    samples: int


class AlignmentSideOut(ResponseModel):
    trades: int | None
    win_rate: float | None
    profit_factor: float | None
    avg_trade_pnl: float | None


class AlignmentOut(ResponseModel):
    backtest_id: int
    backtest_finished_at: UtcTime | None
    live: AlignmentSideOut
    backtest: AlignmentSideOut
    win_rate_difference: float | None
    profit_factor_difference: float | None
    avg_trade_pnl_difference: float | None


class ProgramRow(TradeStatsOut):
    program_id: int
    runs: int
    failed_runs: int
    execution_time_ms: ExecutionTimeOut
    decision_distribution: dict[str, int]
    # Null until the program has a completed backtest.
    backtest_alignment: AlignmentOut | None


class TradeOut(ResponseModel):
    account_id: int
    symbol: str
    side: str
    operation: str
    quantity: JsonDecimal
    entry_time: UtcTime
    exit_time: UtcTime | None
    entry_price: JsonDecimal
    exit_price: JsonDecimal | None
    entry_notional: JsonDecimal
    exit_reason: str | None
    realized_pnl: JsonDecimal
    fees: JsonDecimal
    funding: JsonDecimal
    pnl: JsonDecimal
    return_pct: JsonDecimal | None
    duration_hours: float | None
    fill_ids: list[int]
    opening_order_id: int | None
    trigger_type: str
    strategy: str
    decision_id: int | None
    prompt_id: int | None
    program_id: int | None
    binding_id: int | None


class ReplayOrderOut(OrderOut):
    trigger_type: str | None
    decision_id: int | None
    strategy_type: str | None
    prompt_id: int | None
    program_id: int | None
    binding_id: int | None


class ReplayFillOut(ResponseModel):
    id: int
    time: UtcTime
    side: str
    price: JsonDecimal
    quantity: JsonDecimal
    fee: JsonDecimal
    realized_pnl: JsonDecimal
    is_liquidation: bool


class ReplayOut(ResponseModel):
    order: ReplayOrderOut
    fills: list[ReplayFillOut]
    # The decision record behind the order (trigger, rendered prompt or program input,
    # raw answer, verdicts); null for an order placed by hand.
    decision: DecisionOut | None
    program_input: str | None
