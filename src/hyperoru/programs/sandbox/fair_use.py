"""The sandbox's fairness rules in one place: who may start a run (budget and per-user
caps, else ``SandboxRefused``), whose turn it is (``fair_queue``), and what a run costs
(``budget``). ``docs/SECURITY.md`` lists the rules and their settings.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from hyperoru.programs.sandbox.budget import CpuBudget
from hyperoru.programs.sandbox.fair_queue import FairQueue, Kind, QueueRules
from hyperoru.runtime.cycle_clock import not_counted


class SandboxRefused(Exception):
    """A run the user may not start now; ``retry_after`` seconds is when they may.
    ``budget_spent``: their CPU budget is spent (else: too many runs of theirs waiting)."""

    def __init__(
        self, message: str, *, budget_spent: bool, retry_after: int, details: Mapping[str, Any]
    ) -> None:
        super().__init__(message)
        self.budget_spent = budget_spent
        self.message = message
        self.retry_after = retry_after
        self.details = dict(details)


class FairUse:
    def __init__(
        self,
        rules: QueueRules,
        *,
        budget: CpuBudget | None = None,
        user_test_runs: int | None = None,
        busy_retry_seconds: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = rules
        self.queue = FairQueue(rules)
        self.budget = budget
        self.user_test_runs = user_test_runs
        self._busy_retry = busy_retry_seconds
        self._clock = clock

    def admit(self, user: int, kind: Kind) -> None:
        """Raise ``SandboxRefused`` when ``user`` may not start a run of ``kind`` now.
        Live cycles are never refused (their waiting is bounded by the queue)."""
        if kind is Kind.CYCLE:
            return
        if self.budget is not None and (wait := self.budget.retry_after(user)) is not None:
            raise SandboxRefused(
                f"Your programs used their {self.budget.seconds:g} s of sandbox time per "
                f"{self.budget.window_seconds:g} s; retry in {wait} s",
                budget_spent=True,
                retry_after=wait,
                details={
                    "budget_seconds": self.budget.seconds,
                    "window_seconds": self.budget.window_seconds,
                    "retry_after": wait,
                },
            )
        limit = self.user_test_runs
        if kind is Kind.TEST_RUN and limit is not None and self.queue.pending(user, kind) >= limit:
            raise SandboxRefused(
                f"At most {limit} test runs of one user may wait or run at once; "
                "wait for one to finish",
                budget_spent=False,
                retry_after=self._busy_retry,
                details={"limit": limit, "retry_after": self._busy_retry},
            )

    @asynccontextmanager
    async def turn(
        self, user: int, kind: Kind, *, max_charge: float | None = None
    ) -> AsyncIterator[None]:
        """Admit, wait for a slot (not counted against a cycle's time limit: the wait is
        other users' doing), hold it for the block, then charge the user the seconds it
        held it, at most ``max_charge`` (the run's hard CPU limit: on a busy host the
        slot is held longer than the CPU is used)."""
        self.admit(user, kind)
        with not_counted():
            ticket = await self.queue.acquire(user, kind)
        started = self._clock()
        try:
            yield
        finally:
            if self.budget is not None:
                held = self._clock() - started
                self.budget.charge(user, held if max_charge is None else min(held, max_charge))
            self.queue.release(ticket)
