"""Request and response bodies of /api/factors."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from hyperoru.api_types import RequestModel, ResponseModel, UtcTime

# Longer text than the language accepts still reaches the parser, which answers 422 with
# the position; this bound only keeps absurd bodies out.
_EXPRESSION = Field(min_length=1, max_length=20_000)


class FactorCreate(RequestModel):
    """Every documented variant: ``{name, expression, description}`` (reference),
    ``{name, expression, description, user_id}`` (feature page; the owner is always the
    caller) and ``{context, expression, symbol}`` (typed reference; a name is made up)."""

    name: str | None = Field(default=None, max_length=200)
    expression: str = _EXPRESSION
    description: str | None = Field(default=None, max_length=2000)
    context: dict[str, Any] | None = None
    symbol: str | None = Field(default=None, max_length=20)


class FactorUpdate(RequestModel):
    name: str | None = Field(default=None, max_length=200)
    expression: str | None = Field(default=None, min_length=1, max_length=20_000)
    description: str | None = Field(default=None, max_length=2000)


class CustomFactorOut(ResponseModel):
    id: int
    user_id: int
    name: str
    expression: str
    description: str | None
    category: Literal["custom"] = "custom"
    source: Literal["custom"] = "custom"
    created_at: UtcTime
    updated_at: UtcTime


class CatalogueEntry(ResponseModel):
    # Built-ins have no row and no id (null); custom factors carry theirs.
    id: int | None
    name: str
    category: str
    expression: str
    description: str | None
    source: Literal["builtin", "custom"]
    documented: bool = False


class DeletedOut(ResponseModel):
    status: Literal["ok"] = "ok"


class SummaryOut(ResponseModel):
    """IC statistics over a set of periods (``null`` where undefined)."""

    ic: float | None
    rank_ic: float | None
    icir: float | None
    rank_icir: float | None
    t_stat: float | None
    win_rate: float | None
    periods: int


class KindSummaryOut(SummaryOut):
    kind: Literal["time_series", "cross_sectional"]


class WindowSummaryOut(SummaryOut):
    window: str
    days: int


class DecayOut(ResponseModel):
    horizons: list[int]
    ic: list[float | None]
    half_life_bars: float | None
    half_life_crossing_bars: float | None
    method: str


class EffectivenessRow(ResponseModel):
    factor_name: str
    source: Literal["builtin", "custom"]
    kind: Literal["time_series", "cross_sectional"]
    ic: float | None
    rank_ic: float | None
    icir: float | None
    rank_icir: float | None
    t_stat: float | None
    win_rate: float | None
    periods: int
    half_life_bars: float | None
    horizon_bars: int
    period_bars: int
    interval: str
    symbols: list[str]
    computed_at: UtcTime


class EffectivenessDetail(EffectivenessRow):
    per_symbol: dict[str, SummaryOut] | None
    decay: DecayOut
    by_window: list[WindowSummaryOut]
    # The other kind's summary, so one answer shows both.
    other: KindSummaryOut


class HistoryRow(ResponseModel):
    date: dt.date  # the UTC day the periods ended on
    kind: Literal["time_series", "cross_sectional"]
    ic: float | None
    rank_ic: float | None
    periods: int


class WindowRow(ResponseModel):
    window: str
    days: int
    kind: Literal["time_series", "cross_sectional"]
    ic: float | None
    rank_ic: float | None
    icir: float | None
    rank_icir: float | None
    t_stat: float | None
    win_rate: float | None
    periods: int


class RunResultOut(ResponseModel):
    """What a finished effectiveness run measured, and on which bars."""

    factors: int
    interval: str
    horizon_bars: int
    period_bars: int
    symbols: list[str]
    first_bar: UtcTime
    last_bar: UtcTime
    bars: int


class RunOut(ResponseModel):
    id: int
    kind: str
    status: str
    progress_pct: float
    status_url: str
    result: RunResultOut | None = None
    error: str | None = None
    created_at: UtcTime
    finished_at: UtcTime | None = None


class EvaluateRequest(RequestModel):
    """``{expression, symbol?}`` (also the typed reference's ``{context, expression,
    symbol}``): the expression's recent values, nothing stored."""

    expression: str = _EXPRESSION
    symbol: str | None = Field(default=None, max_length=20)
    symbols: list[str] | None = Field(default=None, max_length=20)
    bars: int = Field(default=100, ge=1, le=1000)
    context: dict[str, Any] | None = None


class SeriesOut(ResponseModel):
    symbol: str
    latest: float | None
    times: list[UtcTime]
    values: list[float | None]


class EvaluateOut(ResponseModel):
    expression: str
    canonical: str
    interval: str
    lookback_bars: int
    series: list[SeriesOut]


class FactorStatusOut(ResponseModel):
    """Our addition (not in the API map): whether this server runs the factor engine."""

    enabled: bool
