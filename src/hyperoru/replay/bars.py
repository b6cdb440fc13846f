"""Candles as columns, and their compact wire form for the sandbox."""

from __future__ import annotations

import math
import operator
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class Bars:
    """One symbol's candles as columns, oldest first (floats as stored).

    ``times`` are candle open times in epoch milliseconds, strictly increasing.
    ``funding_rates`` holds the hourly funding rate in force during each bar (``None``
    where unknown); without it no funding is charged.
    """

    symbol: str
    times: Sequence[int]
    open: Sequence[float]
    high: Sequence[float]
    low: Sequence[float]
    close: Sequence[float]
    volume: Sequence[float]
    funding_rates: Sequence[float | None] | None = None

    def __post_init__(self) -> None:
        size = len(self.times)
        columns = [getattr(self, name) for name in PRICE_COLUMNS]
        if self.funding_rates is not None:
            columns.append(self.funding_rates)
        if any(len(column) != size for column in columns):
            raise ValueError(f"{self.symbol}: every column needs {size} values")
        if not all(map(operator.lt, self.times, islice(self.times, 1, None))):
            raise ValueError(f"{self.symbol}: candle times must be strictly increasing")

    def __len__(self) -> int:
        return len(self.times)

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {"symbol": self.symbol, "times": list(self.times)}
        for name in PRICE_COLUMNS:
            plain[name] = list(getattr(self, name))
        plain["funding_rates"] = None if self.funding_rates is None else list(self.funding_rates)
        return plain

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> Bars:
        rates = plain.get("funding_rates")
        return cls(
            symbol=str(plain["symbol"]),
            times=[int(t) for t in plain["times"]],
            **{name: [float(v) for v in plain[name]] for name in PRICE_COLUMNS},
            funding_rates=None if rates is None else [_rate(r) for r in rates],
        )


def to_wire(bars: Mapping[str, Bars]) -> tuple[list[dict[str, Any]], bytes]:
    """Every symbol's candles for the sandbox: a small header (per symbol its name, its
    number of candles and whether funding rates follow) and one block of little-endian
    binary columns, in the header's order: times (int64), open, high, low, close, volume
    (float64) and the funding rates (float64, NaN for "no rate"). No text encoding: a
    year of minutes (525,600 bars) is 25 MB copied as is."""
    header = []
    block = bytearray()
    for symbol, b in bars.items():
        header.append({"symbol": symbol, "count": len(b), "funding": b.funding_rates is not None})
        block += _pack("q", b.times)
        for name in PRICE_COLUMNS:
            block += _pack("d", getattr(b, name))
        if b.funding_rates is not None:
            block += _pack("d", [math.nan if r is None else r for r in b.funding_rates])
    return header, bytes(block)


def from_wire(header: Sequence[Mapping[str, Any]], block: bytes | memoryview) -> dict[str, Bars]:
    """``to_wire``'s header and block back as ``Bars`` per symbol."""
    view = memoryview(block)
    at = 0
    bars = {}

    def column(typecode: str, count: int) -> list[Any]:
        nonlocal at
        size = count * 8
        if at + size > len(view):
            raise ValueError("the bars' block is shorter than its header says")
        values = _unpack(typecode, view[at : at + size])
        at += size
        return values

    for entry in header:
        symbol, count = str(entry["symbol"]), int(entry["count"])
        times = column("q", count)
        prices = {name: column("d", count) for name in PRICE_COLUMNS}
        rates = column("d", count) if entry.get("funding") else None
        funding = None if rates is None else [None if r != r else r for r in rates]
        bars[symbol] = Bars(symbol, times, **prices, funding_rates=funding)
    if at != len(view):
        raise ValueError("the bars' block is longer than its header says")
    return bars


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


def _pack(typecode: str, values: Sequence[Any]) -> bytes:
    column = values if isinstance(values, array) else array(typecode, values)
    if sys.byteorder == "big":
        column = array(typecode, column)
        column.byteswap()
    return column.tobytes()


def _unpack(typecode: str, raw: bytes | memoryview) -> list[Any]:
    column = array(typecode)
    column.frombytes(raw)
    if sys.byteorder == "big":
        column.byteswap()
    return column.tolist()
