"""bench/soak_report.py, the soak report's explanations: errors placed against the fault
windows, schedule gaps told from lateness and put down to a fault, cycles cut short
counted as run again, and memory growth told from a step."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_report", ROOT / "bench" / "soak_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


report = _load()
WORKER = report.Window("worker", 140.0, 170.0)
POSTGRES = report.Window("postgres", 400.0, 410.0)


def test_an_error_is_placed_against_the_nearest_fault_window() -> None:
    assert report.nearest_window(150, 151, [WORKER, POSTGRES]) == ("worker", 0.0)
    assert report.nearest_window(420, 420.5, [WORKER, POSTGRES]) == ("postgres", 10.0)
    assert report.nearest_window(100, 130, [WORKER, POSTGRES]) == ("worker", -10.0)
    assert report.nearest_window(1, 2, []) == ("none", float("inf"))


def test_a_late_cycle_is_a_gap_but_skips_no_slot_and_its_cause_is_the_fault() -> None:
    starts = {7: [0.0, 60.0, 160.0, 220.0, 350.0, 410.0]}
    gaps = report.schedule_gaps(starts, 60, [WORKER], grace=20)
    assert [(g["due_s"], g["late_s"], g["slots_skipped"], g["cause"]) for g in gaps] == [
        (120.0, 40.0, 0, "worker"),  # due during the takeover, ran 40 s late
        (280.0, 70.0, 1, "none"),  # a whole interval without a cycle, far from any fault
    ]
    assert gaps[1]["from_window_s"] == 90.0  # due 280, the window (with grace) closed at 190
    summary = report.gaps_by_cause(gaps)
    assert summary["worker"] == {
        "gaps": 1,
        "slots_skipped": 0,
        "max_late_s": 40.0,
        "due_from_s": 120.0,
        "due_to_s": 120.0,
    }


def test_cycles_without_a_record_are_counted_as_run_again_or_lost() -> None:
    lost = [(1, 100.0), (2, 100.0), (3, 100.0), (4, 100.0)]
    outcome = report.lost_cycles(
        lost,
        run_again={(1, 100.0)},
        cut_short={(2, 100.0), (3, 100.0)},
        later_starts={2: [100.0, 105.0], 3: [100.0]},
    )
    assert outcome == {
        "run again on takeover": 1,
        "cut short by an outage, run again": 1,
        "not run again": 2,  # 3 never started again; 4 left no trace
    }


def test_memory_growth_is_measured_on_the_second_half_of_a_life() -> None:
    mb = 2**20
    # A worker that takes over traders at 300 s: a step, then flat.
    step = [(float(t), (200 if t < 300 else 230) * mb) for t in range(0, 1800, 10)]
    life = report.memory_life(step, warmup=60, mark_every=600)
    assert life["growth_pct"] == 15.0  # first-to-last sees the step
    assert life["second_half_growth_pct"] == 0.0
    assert life["rss_mb_at_life_s"] == [[0, 200.0], [600, 230.0], [1200, 230.0]]
    # Steady growth, 1 MB a minute: over the second half's 890 s, about 6 %.
    leak = [(float(t), int((200 + t / 60) * mb)) for t in range(0, 1800, 10)]
    grown = report.memory_life(leak, warmup=60, mark_every=600)
    assert grown["second_half_mb_per_min"] == 1.0
    assert 6.0 <= grown["second_half_growth_pct"] <= 7.0
