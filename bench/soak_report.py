"""The parts of the soak report that explain themselves (bench/soak.py): every error with
its distance to the nearest fault window, the schedule's gaps with their cause, the
cycles cut short and whether they ran again, and each process life's memory over time.

Pure functions over what the run recorded (times are seconds since the load started),
so they can be checked without running the shape.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Window:
    """A fault's window, seconds since the load started: from the fault to its recovery
    plus the settle time."""

    kind: str
    opens: float
    closes: float


def nearest_window(start: float, end: float, windows: Sequence[Window]) -> tuple[str, float]:
    """The fault whose window is nearest to the span ``start``..``end`` and how far:
    0 inside it, negative before it opens, positive after it closed."""
    best: tuple[str, float] = ("none", math.inf)
    for window in windows:
        if end >= window.opens and start <= window.closes:
            return window.kind, 0.0
        distance = end - window.opens if end < window.opens else start - window.closes
        if abs(distance) < abs(best[1]):
            best = (window.kind, distance)
    return best


def error_entry(
    *,
    at: float,
    seconds: float,
    facts: dict[str, Any],
    windows: Sequence[Window],
) -> dict[str, Any]:
    fault, distance = nearest_window(at, at + seconds, windows)
    return {
        "at_s": round(at, 2),
        "seconds": round(seconds, 3),
        **facts,
        "nearest_fault": fault,
        "from_window_s": None if math.isinf(distance) else round(distance, 1),
    }


def error_line(error: dict[str, Any]) -> str:
    where = (
        "inside"
        if error["from_window_s"] == 0
        else f"{error['from_window_s']:+} s from the window of"
    )
    what = f"HTTP {error['status']}" if error["status"] is not None else error["code"]
    code = f" {error['code']}" if error["status"] is not None and error["code"] else ""
    service = f" (service {error['service']})" if error.get("service") else ""
    return (
        f"- {error['at_s']} s: {error['kind']} `{error['route']}` on {error['target']}: "
        f"{what}{code}{service}, {error['message'][:120]!r}, request id "
        f"{error['request_id'] or '-'}; {where} {error['nearest_fault']}"
    )


# -- the schedule -------------------------------------------------------------------------

LATE_FRACTION = 0.5  # a gap longer than 1.5 intervals is kept and explained


def schedule_gaps(
    starts: dict[int, list[float]],
    interval: float,
    windows: Sequence[Window],
    grace: float,
) -> list[dict[str, Any]]:
    """Every gap between two recorded scheduled cycles of a trader longer than
    ``1 + LATE_FRACTION`` intervals. The scheduler sets a strategy's next run an interval
    after its last start, so a late start shifts the schedule rather than skipping: a gap
    of ``g`` skips ``floor(g / interval) - 1`` slots (whole intervals with no cycle), and
    a shorter one is only late. Its cause is the fault whose window (plus ``grace``)
    the late span (from when the cycle was due to when it ran) overlaps."""
    gaps = []
    widened = [Window(w.kind, w.opens, w.closes + grace) for w in windows]
    for trader, times in sorted(starts.items()):
        ordered = sorted(times)
        for earlier, later in itertools.pairwise(ordered):
            gap = later - earlier
            if gap <= interval * (1 + LATE_FRACTION):
                continue
            due = earlier + interval
            fault, distance = nearest_window(due, later, widened)
            gaps.append(
                {
                    "trader": trader,
                    "due_s": round(due, 1),
                    "ran_s": round(later, 1),
                    "late_s": round(gap - interval, 1),
                    "slots_skipped": max(0, math.floor(gap / interval) - 1),
                    "cause": fault if distance == 0 else "none",
                    "nearest_fault": fault,
                    "from_window_s": None if math.isinf(distance) else round(distance, 1),
                }
            )
    return gaps


def gaps_by_cause(gaps: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for gap in gaps:
        entry = summary.setdefault(
            gap["cause"], {"gaps": 0, "slots_skipped": 0, "max_late_s": 0.0, "due_s": []}
        )
        entry["gaps"] += 1
        entry["slots_skipped"] += gap["slots_skipped"]
        entry["max_late_s"] = max(entry["max_late_s"], gap["late_s"])
        entry["due_s"].append(gap["due_s"])
    for entry in summary.values():
        due = entry.pop("due_s")
        entry["due_from_s"], entry["due_to_s"] = min(due), max(due)
    return summary


# -- cycles cut short ---------------------------------------------------------------------


def lost_cycles(
    lost: Iterable[tuple[int, float]],
    run_again: set[tuple[int, float]],
    cut_short: set[tuple[int, float]],
    later_starts: dict[int, list[float]],
) -> Counter[str]:
    """Each cycle started without a record: run again by the worker that took its trader
    over (``cycle_run_again`` names it), cut short by an outage and its trader started
    again afterwards (due ``RUN_AGAIN_AFTER`` later), or neither (lost)."""
    outcome: Counter[str] = Counter()
    for trader, at in lost:
        if (trader, at) in run_again:
            outcome["run again on takeover"] += 1
        elif (trader, at) in cut_short and any(t > at for t in later_starts.get(trader, [])):
            outcome["cut short by an outage, run again"] += 1
        else:
            outcome["not run again"] += 1
    return outcome


# -- memory -------------------------------------------------------------------------------


def _slope(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least squares: (slope, value at the first point's time)."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    slope = 0.0 if spread == 0 else sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
    return slope, mean_v + slope * (points[0][0] - mean_t)


def memory_life(
    samples: Sequence[tuple[float, int]], *, warmup: float, mark_every: float
) -> dict[str, Any] | None:
    """One process life's resident memory: from ``warmup`` after its first sample to its
    last (as before), the RSS every ``mark_every`` of its life, and the trend over its
    second half (the least-squares slope), the criterion's measure: a step (a worker
    taking over traders) early in a life does not count as growth, steady growth does."""
    if len(samples) < 2:
        return None
    born = samples[0][0]
    steady = [s for s in samples if s[0] >= born + warmup]
    if len(steady) < 2:
        return None
    first, last = steady[0][1], steady[-1][1]
    marks = []
    next_mark = 0.0
    for t, rss in samples:
        if t - born >= next_mark:
            marks.append([round(t - born), round(rss / 2**20, 1)])
            next_mark += mark_every
    middle = born + (samples[-1][0] - born) / 2
    second = [(t, float(rss)) for t, rss in samples if t >= middle]
    slope, start = _slope(second) if len(second) >= 2 else (0.0, float(second[0][1]))
    half_s = second[-1][0] - second[0][0]
    return {
        "first_mb": round(first / 2**20, 1),
        "last_mb": round(last / 2**20, 1),
        "growth_pct": round(100 * (last - first) / first, 1),
        "over_s": round(steady[-1][0] - steady[0][0]),
        "life_s": round(samples[-1][0] - born),
        "rss_mb_at_life_s": marks,
        "second_half_s": round(half_s),
        "second_half_mb_per_min": round(slope * 60 / 2**20, 3),
        "second_half_growth_pct": round(100 * slope * half_s / start, 1) if start else None,
    }


def per_trader(pairs: Iterable[tuple[int, float]]) -> dict[int, list[float]]:
    grouped: dict[int, list[float]] = defaultdict(list)
    for trader, at in pairs:
        grouped[trader].append(at)
    return grouped
