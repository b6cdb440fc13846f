"""AI attribution and program analytics: decision records joined to the trades their
orders opened (``trading_orders.decision_id``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.analytics import metrics
from hyperoru.analytics.service import Scope, closed_trades, trade_fields
from hyperoru.analytics.trades import Trade
from hyperoru.jobs.models import Job, JobStatus
from hyperoru.strategies.records import DecisionRecord

# The job kind of program backtests (backtests/handler.py; that package sits above this
# one, and tests/analytics checks the two agree).
PROGRAM_BACKTEST_KIND = "program_backtest"

# Stated confidence is read from the model's raw answer; 0-100 answers are scaled to 0-1.
CONFIDENCE_BUCKETS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0))


def stated_confidence(raw_output: str | None) -> float | None:
    """The highest ``confidence`` the answer states (top level or on a decision)."""
    if not raw_output:
        return None
    try:
        answer = json.loads(raw_output)
    except ValueError:
        return None
    found: list[float] = []
    candidates = [answer] if isinstance(answer, dict) else []
    if isinstance(answer, dict) and isinstance(answer.get("decisions"), list):
        candidates += [d for d in answer["decisions"] if isinstance(d, dict)]
    for item in candidates:
        value = item.get("confidence")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            found.append(float(value) / 100.0 if value > 1 else float(value))
    return min(max(found), 1.0) if found else None


async def _records(session: AsyncSession, scope: Scope) -> list[DecisionRecord]:
    query = select(DecisionRecord).where(
        DecisionRecord.user_id == scope.user_id,
        DecisionRecord.created_at >= scope.window.since,
        DecisionRecord.created_at <= scope.window.until,
    )
    if scope.account_id is not None:
        query = query.where(DecisionRecord.account_id == scope.account_id)
    return list((await session.scalars(query.order_by(DecisionRecord.id))).all())


def _by_decision(trades: Sequence[Trade]) -> dict[int, list[Trade]]:
    grouped: dict[int, list[Trade]] = {}
    for trade in trades:
        if trade.cause.decision_id is not None:
            grouped.setdefault(trade.cause.decision_id, []).append(trade)
    return grouped


def _operations(records: Sequence[DecisionRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        for decision in record.decisions or ():
            operation = str(decision.get("operation"))
            counts[operation] = counts.get(operation, 0) + 1
    return dict(sorted(counts.items()))


def _context_rows(
    judged: Sequence[tuple[DecisionRecord, Decimal]],
    names_of: Callable[[DecisionRecord], Iterable[str]],
    key: str,
) -> list[dict[str, Any]]:
    """Per name (a template variable, a regime): the judged decisions that had it, how
    many of them won and lost, and their PnL; most decisions first."""
    rows: dict[str, list[Decimal]] = {}
    for record, pnl in judged:
        for name in set(names_of(record)):
            rows.setdefault(name, []).append(pnl)
    answer = []
    for name, pnls in rows.items():
        stats = metrics.trade_stats(pnls)
        answer.append(
            {
                key: name,
                "decisions": stats.trades,
                "winning_decisions": stats.wins,
                "losing_decisions": stats.losses,
                "accuracy": stats.win_rate,
                "pnl": stats.total_pnl,
            }
        )
    return sorted(answer, key=lambda r: (-r["decisions"], r[key]))


def _variables(record: DecisionRecord) -> list[str]:
    return [str(v) for v in (record.context or {}).get("variables") or ()]


def _regimes(record: DecisionRecord) -> list[str]:
    """The regimes of the symbols the decision acted on (``unknown`` where the input
    carried none)."""
    regimes = (record.context or {}).get("regimes") or {}
    symbols = {str(d.get("symbol")) for d in record.decisions or () if d.get("symbol")}
    return [str(regimes.get(s) or "unknown") for s in sorted(symbols)] or ["unknown"]


async def ai_attribution(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """One trader's decisions (``scope.account_id``), or all of the user's traders'."""
    records = await _records(session, scope)
    _, trades = await closed_trades(session, scope)
    outcome = _by_decision(trades)
    judged = [
        (r, sum((t.pnl for t in outcome[r.id]), Decimal(0))) for r in records if r.id in outcome
    ]
    right = sum(1 for _, pnl in judged if pnl > 0)
    confident = [
        (c, pnl) for r, pnl in judged if (c := stated_confidence(r.raw_output)) is not None
    ]
    buckets = []
    for low, high in CONFIDENCE_BUCKETS:
        inside = [pnl for c, pnl in confident if low <= c < high or (high == 1.0 and c == 1.0)]
        stats = metrics.trade_stats(inside)
        buckets.append(
            {
                "min_confidence": low,
                "max_confidence": high,
                "decisions": stats.trades,
                "accuracy": stats.win_rate,
                "pnl": stats.total_pnl,
            }
        )
    models: dict[str, list[DecisionRecord]] = {}
    for record in records:
        models.setdefault(record.model or "unknown", []).append(record)
    return {
        "trader_id": scope.account_id,
        "account_id": scope.account_id,
        "days": scope.window.days,
        "since": scope.window.since,
        "until": scope.window.until,
        "decisions": len(records),
        "failed_decisions": sum(1 for r in records if r.status != "ok"),
        "executed_decisions": sum(1 for r in records if r.executed),
        "decision_distribution": _operations(records),
        "judged_decisions": len(judged),
        "decision_accuracy": right / len(judged) if judged else None,
        "confidence": {
            "decisions_with_confidence": len(confident),
            "correlation_with_pnl": metrics.pearson(
                [c for c, _ in confident], [float(p) for _, p in confident]
            )
            if len(confident) >= 2
            else None,
            "buckets": buckets,
        },
        # Which template variables were in the prompts of winning vs losing decisions.
        "context_utilization": _context_rows(judged, _variables, "variable"),
        "regimes": _context_rows(judged, _regimes, "regime"),
        "models": [
            {
                "model": model,
                "decisions": len(rows),
                **trade_fields([t for r in rows for t in outcome.get(r.id, ())]),
            }
            for model, rows in sorted(models.items())
        ],
        **{key: value for key, value in trade_fields(trades).items() if key == "total_pnl"},
    }


async def program_analytics(
    session: AsyncSession, scope: Scope, program_id: int | None
) -> list[dict[str, Any]]:
    """Per program: its live decision cycles' execution time, decision mix and trades
    (of the traders in ``scope``)."""
    records = [
        r
        for r in await _records(session, scope)
        if r.strategy_type == "program" and r.program_id is not None
    ]
    if program_id is not None:
        records = [r for r in records if r.program_id == program_id]
    _, trades = await closed_trades(session, scope)
    outcome = _by_decision(trades)
    programs: dict[int, list[DecisionRecord]] = {}
    for record in records:
        assert record.program_id is not None
        programs.setdefault(record.program_id, []).append(record)
    backtests = await _latest_backtests(session, scope.user_id, sorted(programs))
    rows = []
    for pid, runs in sorted(programs.items()):
        times = [float(r.latency_ms) for r in runs if r.latency_ms is not None]
        live = trade_fields([t for r in runs for t in outcome.get(r.id, ())])
        rows.append(
            {
                "program_id": pid,
                "runs": len(runs),
                "failed_runs": sum(1 for r in runs if r.status != "ok"),
                "execution_time_ms": {
                    "avg": metrics.mean(times),
                    "p99": metrics.percentile(times, 99),
                    "max": max(times) if times else None,
                    "samples": len(times),
                },
                "decision_distribution": _operations(runs),
                **live,
                "backtest_alignment": _alignment(live, backtests.get(pid)),
            }
        )
    return rows


async def _latest_backtests(
    session: AsyncSession, user_id: int, program_ids: Sequence[int]
) -> dict[int, Job]:
    """Each program's most recently finished completed backtest."""
    if not program_ids:
        return {}
    jobs = await session.scalars(
        select(Job)
        .where(
            Job.owner_id == user_id,
            Job.kind == PROGRAM_BACKTEST_KIND,
            Job.status == JobStatus.COMPLETED,
        )
        .order_by(Job.finished_at, Job.id)
    )
    latest: dict[int, Job] = {}
    for job in jobs:
        program_id = (job.params or {}).get("program_id")
        if isinstance(program_id, int) and program_id in program_ids:
            latest[program_id] = job
    return latest


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _alignment(live: dict[str, Any], job: Job | None) -> dict[str, Any] | None:
    """The live runs' trade statistics next to the program's latest completed backtest:
    the same definitions on both sides (a round trip's net PnL), and their differences
    (live minus backtest)."""
    if job is None:
        return None
    found = (job.result or {}).get("metrics") or {}
    trades = found.get("total_trades")
    total = _number(found.get("total_pnl"))
    backtest = {
        "trades": trades if isinstance(trades, int) else None,
        "win_rate": _number(found.get("win_rate")),
        "profit_factor": _number(found.get("profit_factor")),
        "avg_trade_pnl": total / trades
        if total is not None and isinstance(trades, int) and trades
        else None,
    }
    live_side = {
        "trades": live["trades"],
        "win_rate": live["win_rate"],
        "profit_factor": live["profit_factor"],
        "avg_trade_pnl": _number(live["avg_trade_pnl"]),
    }

    def difference(name: str) -> float | None:
        a, b = live_side[name], backtest[name]
        return None if a is None or b is None else float(a) - float(b)

    return {
        "backtest_id": job.id,
        "backtest_finished_at": job.finished_at,
        "live": live_side,
        "backtest": backtest,
        "win_rate_difference": difference("win_rate"),
        "profit_factor_difference": difference("profit_factor"),
        "avg_trade_pnl_difference": difference("avg_trade_pnl"),
    }
