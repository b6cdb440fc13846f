"""Closed candles of recent reads, kept in memory per (dataset, symbol, interval).

A closed candle never changes, and every trader deciding within the same hour reads the
same hourly window of the same few symbols. Answering those reads from memory spares the
database the query and, above all, the event loop the work of turning the same few
hundred rows into candles again for every trader (measured: the largest share of a
cycle's time on the loop once indicators moved off it, see bench/README.md).

Used on the event loop only (no locking). One window per series: a read the kept window
does not cover goes to the database and replaces it, which for a live cycle happens once
per new candle.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hyperoru.market.providers.base import Candle

SeriesKey = tuple[str, str, str]  # dataset, symbol, interval

MAX_SERIES = 256


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime
    candles: tuple[Candle, ...]
    opens: tuple[datetime, ...]


class ClosedCandles:
    def __init__(self, *, max_series: int = MAX_SERIES) -> None:
        self._max_series = max_series
        self._windows: OrderedDict[SeriesKey, _Window] = OrderedDict()

    def get(self, key: SeriesKey, start: datetime, end: datetime) -> list[Candle] | None:
        """The kept candles opening in [start, end), or None unless all of it is kept."""
        window = self._windows.get(key)
        if window is None or start < window.start or end > window.end:
            return None
        self._windows.move_to_end(key)
        first = bisect.bisect_left(window.opens, start)
        stop = bisect.bisect_left(window.opens, end)
        return list(window.candles[first:stop])

    def keep(
        self, key: SeriesKey, start: datetime, end: datetime, candles: Sequence[Candle]
    ) -> None:
        """Remember ``candles``: every closed candle opening in [start, end), oldest first."""
        self._windows[key] = _Window(
            start, end, tuple(candles), tuple(candle.open_time for candle in candles)
        )
        self._windows.move_to_end(key)
        while len(self._windows) > self._max_series:
            self._windows.popitem(last=False)
