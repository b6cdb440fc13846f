"""Backtest records as the API shows them: the job's state, the frozen inputs and, once
completed, the metrics at the top level and in the documented ``backtest``/``metrics``
shape, with the long parts (curve, trades, logs) that the read asks for."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi import Response

from hyperoru.backtests.parts import Part, answer
from hyperoru.backtests.results import equity_out, metric_values, result_fields, trades_out
from hyperoru.backtests.schemas import BacktestBrief, BacktestOut, BacktestSummaryOut
from hyperoru.backtests.service import BacktestRecord
from hyperoru.jobs.models import JobStatus

# The parts a program backtest's answer can carry, by the field that holds each.
PARTS = {Part.TRADES: "trades", Part.EQUITY: "equity_curve", Part.LOGS: "logs"}
ALL_PARTS = frozenset(PARTS)


def status_url(backtest_id: int) -> str:
    return f"/api/backtests/{backtest_id}"


def _completed(record: BacktestRecord) -> bool:
    return record.job.status == JobStatus.COMPLETED


def _fields(record: BacktestRecord) -> dict[str, Any]:
    job, backtest = record.job, record.backtest
    result = job.result if _completed(record) and job.result else {}
    values = result_fields(result)
    brief = BacktestBrief(
        id=backtest.id,
        status=job.status,  # type: ignore[arg-type]
        account_id=backtest.account_id,
        program_id=backtest.program_id,
        started_at=job.started_at,
        finished_at=job.finished_at,
        total_pnl=values.get("total_pnl"),
        total_trades=values.get("total_trades"),
        win_rate=values.get("win_rate"),
    )
    url = status_url(backtest.id)
    return {
        "id": backtest.id,
        "status": job.status,
        "progress": job.progress_pct,
        "progress_pct": job.progress_pct,
        "program_id": backtest.program_id,
        "program_name": backtest.program_name,
        "account_id": backtest.account_id,
        "code_sha256": backtest.code_sha256,
        "config": backtest.config,
        "attempts": job.attempts,
        "created_at": backtest.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.error if job.status == JobStatus.FAILED else None,
        "status_url": url,
        "trades_url": f"{url}/trades",
        "equity_url": f"{url}/equity",
        **values,
        "metrics": metric_values(result.get("metrics")),
        "backtest": brief,
    }


def summary_out(record: BacktestRecord) -> BacktestSummaryOut:
    return BacktestSummaryOut(**_fields(record))


def finished_trades(record: BacktestRecord) -> list[dict[str, Any]]:
    """The stored trade list once completed (the caller loaded it), else none."""
    return (record.backtest.trades or []) if _completed(record) else []


def finished_curve(record: BacktestRecord) -> list[dict[str, Any]] | None:
    return record.backtest.equity_curve if _completed(record) else None


def backtest_out(record: BacktestRecord, parts: Collection[Part] = ALL_PARTS) -> BacktestOut:
    """The backtest with the long ``parts`` filled in (the caller loaded the columns
    they need)."""
    logs = (record.job.result or {}).get("logs", []) if _completed(record) else []
    # Only the parts asked for were loaded: touching another deferred column would load it.
    curve = finished_curve(record) if Part.EQUITY in parts else None
    return BacktestOut(
        **_fields(record),
        equity_curve=None if curve is None else equity_out(curve),
        trades=trades_out(finished_trades(record)) if Part.TRADES in parts else [],
        logs=[str(line) for line in logs] if Part.LOGS in parts else [],
    )


def backtest_answer(record: BacktestRecord, parts: Collection[Part]) -> Response:
    """As ``backtest_out``, with the parts not asked for left out of the answer."""
    out = backtest_out(record, parts)
    return answer(out, omitted=[field for part, field in PARTS.items() if part not in parts])
