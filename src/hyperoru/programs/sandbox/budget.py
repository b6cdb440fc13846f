"""Each user's sandbox CPU budget: seconds of sandbox time per window, as a token bucket.

A run is charged after it ends with the seconds it held its slot, at most its hard CPU
limit. A slot is one core and a sandbox process is single-threaded (``RLIMIT_NPROC`` 1),
so both are bounds of its CPU time from above (the first is close on an idle host, the
second when a busy host stretches the run); both are known even for a run killed at its
limits, when the process leaves no account of itself. The bucket holds ``seconds`` at
most and refills at ``seconds / window`` per second; a charge may take it below zero (a
run's cost is known only afterwards), and while it is at or below zero the user's new
test runs and backtests are refused until it refills (``retry_after``). Live
program-trader cycles are charged but never refused: a user's own backtests must not stop
their trading.

In memory, per server process, like the queue it guards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class CpuBudget:
    def __init__(
        self,
        seconds: float,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.window_seconds = window_seconds
        self._rate = seconds / window_seconds
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def left(self, user: int) -> float:
        """Seconds the user may still spend now (negative: overdrawn)."""
        bucket = self._buckets.get(user)
        if bucket is None:
            return self.seconds
        now = self._clock()
        tokens = min(self.seconds, bucket.tokens + (now - bucket.at) * self._rate)
        if tokens >= self.seconds:
            del self._buckets[user]  # full again: nothing to remember
        return tokens

    def retry_after(self, user: int) -> int | None:
        """None when the user may start a run now, else whole seconds until they may."""
        tokens = self.left(user)
        if tokens > 0:
            return None
        # The first whole second at which the bucket holds more than nothing.
        return math.floor(-tokens / self._rate) + 1

    def charge(self, user: int, seconds: float) -> None:
        tokens = self.left(user)
        self._buckets[user] = _Bucket(tokens - max(0.0, seconds), self._clock())
