"""Candle intervals the API accepts, and time-grid arithmetic on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

INTERVAL_SECONDS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "4h": 14_400,
    "1d": 86_400,
}
INTERVALS: tuple[str, ...] = tuple(INTERVAL_SECONDS)


def is_interval(value: str) -> bool:
    return value in INTERVAL_SECONDS


def step(interval: str) -> timedelta:
    return timedelta(seconds=INTERVAL_SECONDS[interval])


def floor_time(moment: datetime, interval: str) -> datetime:
    """Open time of the candle that contains ``moment`` (candles are aligned to the epoch)."""
    seconds = INTERVAL_SECONDS[interval]
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def ceil_time(moment: datetime, interval: str) -> datetime:
    floored = floor_time(moment, interval)
    return floored if floored == moment else floored + step(interval)


def open_times(start: datetime, end: datetime, interval: str) -> list[datetime]:
    """Aligned open times in [start, end)."""
    first = ceil_time(start, interval)
    delta = step(interval)
    times: list[datetime] = []
    current = first
    while current < end:
        times.append(current)
        current += delta
    return times


def count_between(start: datetime, end: datetime, interval: str) -> int:
    """How many aligned candles open in [start, end), without building the list."""
    if end <= start:
        return 0
    seconds = INTERVAL_SECONDS[interval]
    first = int(ceil_time(start, interval).timestamp())
    last = int(end.timestamp())
    return max(0, (last - first + seconds - 1) // seconds)


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)
