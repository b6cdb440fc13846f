"""A scripted market with candles on every interval, for the signal runtime tests: the
test sets closed candles (ending at the current real hour, since candles are read
against the wall clock) and moves the live mark."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hyperoru.market.intervals import floor_time, step
from hyperoru.market.providers.base import Candle
from hyperoru.timeutils import utcnow
from tests.signals.paths import candles
from tests.trading.market import ScriptedMarket, TestClock


class CandleMarket(ScriptedMarket):
    def __init__(self) -> None:
        super().__init__(TestClock())
        self.series: dict[tuple[str, str], list[Candle]] = {}

    def set_closes(self, symbol: str, closes: Sequence[float], interval: str = "1h") -> None:
        """Closed candles with these closes, the last one closing at the current hour."""
        start = floor_time(utcnow(), interval) - len(closes) * step(interval)
        self.series[(symbol, interval)] = candles(closes, start=start, step=step(interval))

    async def candles(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> Sequence[Candle]:
        rows = self.series.get((symbol, interval), [])
        return [c for c in rows if start <= c.open_time < end][: self.candle_page_size]
