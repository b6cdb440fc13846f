"""Backtest records as the API shows them: the job's state, the frozen inputs and, once
completed, the metrics at the top level and in the documented ``backtest``/``metrics``
shape."""

from __future__ import annotations

from typing import Any

from hyperoru.backtests.results import result_fields
from hyperoru.backtests.schemas import BacktestBrief, BacktestOut, BacktestSummaryOut
from hyperoru.backtests.service import BacktestRecord
from hyperoru.jobs.models import JobStatus


def status_url(backtest_id: int) -> str:
    return f"/api/backtests/{backtest_id}"


def _fields(record: BacktestRecord) -> dict[str, Any]:
    job, backtest = record.job, record.backtest
    result = job.result if job.status == JobStatus.COMPLETED and job.result else {}
    metrics: dict[str, Any] = dict(result.get("metrics", {}))
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
        "status_url": status_url(backtest.id),
        **values,
        "metrics": metrics,
        "backtest": brief,
    }


def summary_out(record: BacktestRecord) -> BacktestSummaryOut:
    return BacktestSummaryOut(**_fields(record))


def backtest_out(record: BacktestRecord) -> BacktestOut:
    """The whole backtest; the caller loaded its curve and trades (``with_results``)."""
    job, backtest = record.job, record.backtest
    done = job.status == JobStatus.COMPLETED
    logs = (job.result or {}).get("logs", []) if done else []
    return BacktestOut(
        **_fields(record),
        equity_curve=backtest.equity_curve if done else None,
        trades=(backtest.trades or []) if done else [],
        logs=[str(line) for line in logs],
    )
