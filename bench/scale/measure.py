"""What a runtime-scale run measured, computed from plain data (no I/O, no clock).

Inputs: each trader's schedule start (the server's ``updated_at`` of its strategy), the
scheduled decision records read back through the API, the fake model's own log of every
request (when it arrived, when it was answered), connection samples and the server
processes' log lines. Every time is seconds since the epoch on this machine's clock, which
the bench, the fake model and the server processes share.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

# A record is matched to the model request it made when the request arrived between the
# cycle's start and its record; the slack absorbs the microsecond rounding of both clocks.
MATCH_SLACK_SECONDS = 0.005
ERROR_PREFIX_CHARS = 60
_NUMBER = re.compile(r"\d+")
# Log text that means the process could not get a database connection in time, or the
# database refused one.
POOL_ERROR = re.compile(
    r"QueuePool limit|pool.{0,40}timed? ?out|too many clients|remaining connection slots"
    r"|database is locked|TooManyConnections",
    re.IGNORECASE,
)


def epoch(iso: str) -> float:
    """``2026-12-06T15:00:00.123456Z`` → seconds since the epoch."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0–100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Trader:
    account_id: int
    # The model name the trader sends, which tells the fake model who is asking.
    model: str
    schedule_start: float


@dataclass(frozen=True, slots=True)
class Cycle:
    """One scheduled decision record."""

    account_id: int
    started: float  # the record's trigger ``at``
    recorded: float  # the record's ``created_at``
    ok: bool
    error: str | None
    latency_ms: int | None


@dataclass(frozen=True, slots=True)
class ModelCall:
    model: str
    arrived: float
    answered: float


@dataclass(frozen=True, slots=True)
class IntervalRow:
    index: int
    expected: int
    completed: int  # status ok and recorded before the interval ended
    late: int  # status ok but recorded after the interval ended
    failed: int  # status failed
    missing: int  # no record at all (timed out, crashed, or never started)


@dataclass(frozen=True, slots=True)
class Observed:
    """One scheduled cycle of the window, as measured. Seconds throughout."""

    interval: int  # 0-based: the trader's k-th cycle
    ok: bool
    # Trigger ``at`` minus the ideal start ``schedule_start + k * interval``.
    lateness: float
    # The record's time minus its trigger time minus the fake model's delay: what the
    # cycle cost besides the model (ok cycles only, whose model call took the delay).
    overhead: float | None
    # The same with the server's own ``latency_ms`` of the model call instead of the delay.
    server_overhead: float | None
    # From the fake model's log, when the cycle's request is found there: when the
    # request arrived (minus the ideal start, and minus the trigger time) and how long
    # after the answer was sent the record was made.
    request_lateness: float | None
    before_model: float | None
    after_model: float | None


def by_account(cycles: Iterable[Cycle]) -> dict[int, list[Cycle]]:
    grouped: dict[int, list[Cycle]] = {}
    for cycle in cycles:
        grouped.setdefault(cycle.account_id, []).append(cycle)
    for items in grouped.values():
        items.sort(key=lambda c: c.started)
    return grouped


def by_model(calls: Iterable[ModelCall]) -> dict[str, list[ModelCall]]:
    grouped: dict[str, list[ModelCall]] = {}
    for call in calls:
        grouped.setdefault(call.model, []).append(call)
    for items in grouped.values():
        items.sort(key=lambda c: c.arrived)
    return grouped


def in_window(
    trader: Trader, items: Sequence[Cycle], interval: float, intervals: int
) -> list[Cycle]:
    """The trader's cycles that started inside the measured window, in order: the k-th of
    them is its k-th scheduled cycle (the scheduler never skips one)."""
    end = trader.schedule_start + interval * intervals
    return [c for c in items if c.started < end]


def interval_rows(
    traders: Sequence[Trader], cycles: dict[int, list[Cycle]], interval: float, intervals: int
) -> list[IntervalRow]:
    rows = []
    for k in range(intervals):
        completed = late = failed = missing = 0
        for trader in traders:
            mine = in_window(trader, cycles.get(trader.account_id, []), interval, intervals)
            if k >= len(mine):
                missing += 1
            elif not mine[k].ok:
                failed += 1
            elif mine[k].recorded < trader.schedule_start + (k + 1) * interval:
                completed += 1
            else:
                late += 1
        rows.append(IntervalRow(k + 1, len(traders), completed, late, failed, missing))
    return rows


def _request_of(cycle: Cycle, requests: Sequence[ModelCall]) -> ModelCall | None:
    return next(
        (
            call
            for call in requests
            if cycle.started - MATCH_SLACK_SECONDS <= call.arrived
            and call.answered <= cycle.recorded + MATCH_SLACK_SECONDS
        ),
        None,
    )


def observe(
    traders: Sequence[Trader],
    cycles: dict[int, list[Cycle]],
    calls: dict[str, list[ModelCall]],
    *,
    interval: float,
    intervals: int,
    model_delay: float,
) -> list[Observed]:
    observed = []
    for trader in traders:
        mine = in_window(trader, cycles.get(trader.account_id, []), interval, intervals)
        requests = calls.get(trader.model, [])
        for k, cycle in enumerate(mine):
            ideal = trader.schedule_start + k * interval
            wall = cycle.recorded - cycle.started
            request = _request_of(cycle, requests)
            observed.append(
                Observed(
                    interval=k,
                    ok=cycle.ok,
                    lateness=cycle.started - ideal,
                    overhead=wall - model_delay if cycle.ok else None,
                    server_overhead=(
                        wall - cycle.latency_ms / 1000
                        if cycle.ok and cycle.latency_ms is not None
                        else None
                    ),
                    request_lateness=None if request is None else request.arrived - ideal,
                    before_model=None if request is None else request.arrived - cycle.started,
                    after_model=None if request is None else cycle.recorded - request.answered,
                )
            )
    return observed


def peak_in_flight(calls: Iterable[ModelCall]) -> int:
    """The most model requests the fake held at once. A plateau at a round number is a
    cap on the server's side (its HTTP client's connection pool, say), not the model."""
    events = sorted(
        [(c.arrived, 1) for c in calls] + [(c.answered, -1) for c in calls],
        key=lambda e: (e[0], e[1]),  # an answer at the same instant leaves first
    )
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def failure_causes(
    traders: Sequence[Trader], cycles: dict[int, list[Cycle]], interval: float, intervals: int
) -> Counter[str]:
    """Failed records by the first words of their error, and cycles with no record."""
    causes: Counter[str] = Counter()
    for trader in traders:
        mine = in_window(trader, cycles.get(trader.account_id, []), interval, intervals)
        for cycle in mine:
            if not cycle.ok:
                causes[f"record failed: {(cycle.error or '')[:ERROR_PREFIX_CHARS]}"] += 1
        if len(mine) < intervals:
            causes["no record (timed out, crashed or never started)"] += intervals - len(mine)
    return causes


@dataclass(frozen=True, slots=True)
class LogSummary:
    # (process, level, message, last line of the exception) → count, WARNING and above.
    problems: Counter[tuple[str, str, str, str]]
    pool_errors: int
    unparsed_lines: int


def _message_kind(message: str) -> str:
    """A message without its numbers and past its first line, so that "Task exception was
    never retrieved … trader-42" and "… trader-43" count as one kind."""
    first = message.splitlines()[0] if message else ""
    return _NUMBER.sub("N", first)[:80]


def scan_logs(logs: dict[str, Iterable[str]]) -> LogSummary:
    problems: Counter[tuple[str, str, str, str]] = Counter()
    pool_errors = unparsed = 0
    for process, lines in logs.items():
        for line in lines:
            text = line.strip()
            if not text:
                continue
            try:
                entry = json.loads(text)
            except ValueError:
                # Output that is not one of hyperoru's JSON log lines (a crash on start-up,
                # an interpreter warning): still searched for pool errors.
                unparsed += 1
                pool_errors += bool(POOL_ERROR.search(text))
                continue
            if not isinstance(entry, dict):
                unparsed += 1
                continue
            level = str(entry.get("level", ""))
            exc = str(entry.get("exc") or "")
            message = str(entry.get("msg", ""))
            if POOL_ERROR.search(message) or POOL_ERROR.search(exc):
                pool_errors += 1
            if level in ("WARNING", "ERROR", "CRITICAL"):
                last = exc.strip().splitlines()[-1][:120] if exc.strip() else ""
                if not last and entry.get("error"):  # e.g. llm_unreachable's error type
                    last = str(entry["error"])[:120]
                problems[(process, level, _message_kind(message), last)] += 1
    return LogSummary(problems, pool_errors, unparsed)


@dataclass(frozen=True, slots=True)
class ConnectionSample:
    at: float
    total: int
    in_use: int | None  # None where the database cannot tell (SQLite)
