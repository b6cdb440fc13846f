"""The server's sandbox as its settings describe it (``HYPERORU_SANDBOX_*``)."""

from __future__ import annotations

import math
import os
from dataclasses import replace

from hyperoru.programs.sandbox.budget import CpuBudget
from hyperoru.programs.sandbox.fair_queue import QueueRules
from hyperoru.programs.sandbox.fair_use import FairUse
from hyperoru.programs.sandbox.launcher import BACKTEST_LIMITS, Sandbox, SandboxLimits
from hyperoru.programs.sandbox.run_records import RunRecords
from hyperoru.settings import Settings

RUN_RECORDS_FOLDER = "sandbox-runs"


def sandbox_for(settings: Settings) -> Sandbox:
    limits = SandboxLimits(
        wall_seconds=settings.sandbox_run_wall_seconds,
        cpu_seconds=settings.sandbox_run_cpu_seconds,
    )
    rules = QueueRules.for_slots(
        settings.sandbox_slots or os.cpu_count() or 1,
        backtest_slots=settings.sandbox_backtest_slots or None,
        user_slots=settings.sandbox_user_slots or None,
    )
    fair = FairUse(
        rules,
        budget=CpuBudget(
            settings.sandbox_cpu_budget_seconds, settings.sandbox_budget_window_seconds
        ),
        user_test_runs=settings.sandbox_user_test_runs,
        # By then at least one of the user's runs has ended.
        busy_retry_seconds=math.ceil(limits.wall_seconds),
    )
    return Sandbox(
        limits,
        backtest_limits=replace(
            BACKTEST_LIMITS,
            wall_seconds=settings.backtest_wall_seconds,
            cpu_seconds=settings.backtest_cpu_seconds,
        ),
        fair=fair,
        records=RunRecords(settings.data_dir.resolve() / RUN_RECORDS_FOLDER),
    )
