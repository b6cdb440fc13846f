"""The trading tests' app: a scripted market and a clock the test moves, the monitor
ticked by hand. The clock starts on the next day's whole hour: decision records are
stamped with the wall clock, so the exchange's clock must be at or after it for one
analytics window to hold both."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from hyperoru.market.providers.base import BookLevel, Candle, OrderBook
from hyperoru.timeutils import utcnow
from tests.trading.conftest import app
from tests.trading.market import ScriptedMarket, TestClock

__all__ = ["app", "clock", "market"]

DEEP = Decimal(10) ** 9


class DeepMarket(ScriptedMarket):
    """Fills land exactly on the mark; no candle history (cycles only need prices)."""

    async def order_book(self, symbol: str) -> OrderBook:
        mark = self._check(symbol)
        level = (BookLevel(mark, DEEP),)
        return OrderBook(symbol, level, level, self._clock())

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        return []


@pytest.fixture
def clock() -> TestClock:
    now = utcnow()
    return TestClock(now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1))


@pytest.fixture
def market(clock: TestClock) -> ScriptedMarket:
    return DeepMarket(clock)
