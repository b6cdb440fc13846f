"""The trading tests' app: a scripted market and a clock the test moves, the monitor
ticked by hand. The clock starts on the next day's whole hour: decision records are
stamped with the wall clock, so the exchange's clock must be at or after it for one
analytics window to hold both."""

from datetime import timedelta

import pytest

from hyperoru.timeutils import utcnow
from tests.trading.conftest import app, market
from tests.trading.market import TestClock

__all__ = ["app", "clock", "market"]


@pytest.fixture
def clock() -> TestClock:
    now = utcnow()
    return TestClock(now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1))
