"""Candle files: reading a user's CSV or Parquet into validated candles, and writing them.

Pure apart from the file handle it is given: no database, no clock (``now`` is passed in).
Reading is a generator, so a file of a million candles is checked in constant memory and
the first bad line stops it with its number. Every candle must be closed (open before
``now``'s candle), on the interval's grid, later than the one before (sorted, no
duplicates), with positive prices, ``low <= open, close <= high`` and a volume that is
not negative; the closest two candles must be exactly one interval apart (a file of
minute candles declared as hourly, or the reverse, is refused).

An optional ``hourly_funding_rate`` column holds the funding rate per hour in effect at each
candle's open (a fraction: 0.0000125 is 0.00125 % an hour; blank where unknown). An export
writes it for the market's candles, so a backtest over the exported file imported again
charges the same funding as over the market's own candles.

CSV is always available. Parquet needs pyarrow (``pip install hyperoru[parquet]``): it
is imported only when a Parquet file is read or written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Literal

from hyperoru.errors import ApiError
from hyperoru.market.intervals import floor_time, step
from hyperoru.market.providers.base import Candle
from hyperoru.market.timeparse import parse_moment

FileFormat = Literal["csv", "parquet"]
FORMATS: tuple[FileFormat, ...] = ("csv", "parquet")
PARQUET_MAGIC = b"PAR1"
# A symbol a user may import under: the backtest request's pattern.
SYMBOL_PATTERN = re.compile(r"^[A-Za-z0-9]{1,20}$")
MAX_CANDLES = 1_000_000
# What PostgreSQL's NUMERIC(38, 18) holds exactly (ExactDecimal): a value it would round
# or refuse must be refused here, with its line, so both databases store the same.
MAX_INTEGER_DIGITS = 20
MAX_DECIMALS = 18

_TIME_NAMES = ("timestamp", "time", "date", "datetime", "open_time", "opentime", "ts", "t")
_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "time": _TIME_NAMES,
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v"),
    # Named for its unit: venues quote funding per 8 hours, or per hour, under plain
    # "funding_rate"; a column of 8-hour rates read as hourly would charge 8 times too much.
    "funding": ("hourly_funding_rate",),
}
_REQUIRED = ("time", "open", "high", "low", "close")
_CSV_HEADER = ("timestamp", "open", "high", "low", "close", "volume")
_FUNDING_HEADER = "hourly_funding_rate"
# A rate per hour of 100 % or more is a percent or a per-period rate given by mistake.
_MAX_FUNDING = Decimal(1)


class CandleFileError(ValueError):
    """A file that cannot be imported; ``where`` is ``("line", n)`` for CSV (the file's
    own line number, header included) or ``("row", n)`` for Parquet (1-based)."""

    def __init__(self, message: str, where: tuple[str, int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        if self.where is None:
            return self.message
        return f"{self.where[0]} {self.where[1]}: {self.message}"


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed."""

    MESSAGE = "Parquet needs pyarrow: pip install 'hyperoru[parquet]' (or send CSV)"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One candle as the file spells it, before any check."""

    where: tuple[str, int]
    time: Any
    open: Any
    high: Any
    low: Any
    close: Any
    volume: Any
    funding: Any = None


@dataclass(frozen=True, slots=True)
class FileSummary:
    candles: int
    first: datetime
    last: datetime


def format_of(name: str) -> FileFormat:
    return "parquet" if name.lower().endswith((".parquet", ".pq")) else "csv"


def normalise_symbol(symbol: str) -> str:
    """Upper case; raises CandleFileError for anything a backtest could not name."""
    cleaned = symbol.strip().upper()
    if not SYMBOL_PATTERN.match(cleaned):
        raise CandleFileError("symbol must be 1 to 20 letters or digits (e.g. MYCOIN)")
    return cleaned


# Reading


def _column_index(header: Sequence[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    found: dict[str, int] = {}
    for column, aliases in _COLUMN_NAMES.items():
        for alias in aliases:
            if alias in names:
                found[column] = names.index(alias)
                break
    if "time" not in found and names and names[0] == "":
        # pandas' DataFrame.to_csv() writes the (time) index first, with no name.
        found["time"] = 0
    missing = [c for c in _REQUIRED if c not in found]
    if missing:
        raise CandleFileError(
            f"header lacks {', '.join(missing)} (expected e.g. "
            f"{','.join(_CSV_HEADER)}; volume is optional)",
            ("line", 1),
        )
    return found


def _looks_like_time(cell: str) -> bool:
    text = cell.strip()
    return bool(text) and (text[0].isdigit() or text[0] == "-")


def csv_rows(text: IO[str]) -> Iterator[RawRow]:
    """Rows of a CSV: with a header naming the columns (any order, other columns
    ignored), or without one as ``time,open,high,low,close[,volume,...]`` (Binance's
    kline layout)."""
    reader = csv.reader(text)
    columns: dict[str, int] | None = None
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not cell.strip() for cell in cells):
                continue
            if columns is None:
                if _looks_like_time(cells[0]):
                    columns = {"time": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5}
                else:
                    columns = _column_index(cells)
                    continue
            yield _row_of(cells, columns, ("line", line))
    except UnicodeDecodeError as exc:
        raise CandleFileError("the file is not UTF-8 text", ("line", reader.line_num + 1)) from exc
    except csv.Error as exc:
        raise CandleFileError(f"unreadable CSV ({exc})", ("line", reader.line_num)) from exc


def _row_of(cells: Sequence[str], columns: dict[str, int], where: tuple[str, int]) -> RawRow:
    def cell(name: str) -> str | None:
        index = columns.get(name)
        if index is None:
            return None
        if index >= len(cells):
            if name == "volume" and len(cells) == 5:
                return None
            raise CandleFileError(f"missing the {name} column", where)
        return cells[index]

    return RawRow(
        where,
        cell("time"),
        cell("open"),
        cell("high"),
        cell("low"),
        cell("close"),
        cell("volume"),
        cell("funding"),
    )


def _pyarrow_parquet() -> Any:
    try:
        # The optional extra, imported only when a Parquet file is met.
        import pyarrow.parquet
    except ImportError as exc:
        raise ParquetUnavailable() from exc
    return pyarrow.parquet


def parquet_rows(binary: IO[bytes]) -> Iterator[RawRow]:
    """Rows of a Parquet file, read batch by batch; columns named as in a CSV header."""
    parquet = _pyarrow_parquet()
    try:
        handle = parquet.ParquetFile(binary)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid and OSError kinds
        raise CandleFileError(f"not a readable Parquet file ({exc})") from exc
    columns = _column_index(handle.schema_arrow.names)
    names = handle.schema_arrow.names
    row = 0
    for batch in handle.iter_batches(batch_size=4096):
        values = {c: batch.column(names[i]).to_pylist() for c, i in columns.items()}
        for offset in range(batch.num_rows):
            row += 1
            yield RawRow(
                ("row", row),
                values["time"][offset],
                values["open"][offset],
                values["high"][offset],
                values["low"][offset],
                values["close"][offset],
                values["volume"][offset] if "volume" in values else None,
                values["funding"][offset] if "funding" in values else None,
            )


# Checking


def _moment(value: Any, where: tuple[str, int]) -> datetime:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise CandleFileError("missing open time", where)
    try:
        parsed = parse_moment(value, "time")
    except ApiError as exc:
        raise CandleFileError(f"open time {value.strip()!r}: {exc.message}", where) from None
    assert parsed is not None  # only None for blank text, refused above
    return parsed


def _price(value: Any, column: str, where: tuple[str, int]) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CandleFileError(f"missing {column}", where)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise CandleFileError(f"{column} {str(value).strip()!r} is not a number", where) from None
    if not number.is_finite():
        raise CandleFileError(f"{column} must be a finite number", where)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    decimals = max(0, -exponent)
    integer_digits = max(0, number.adjusted() + 1)
    if decimals > MAX_DECIMALS or integer_digits > MAX_INTEGER_DIGITS:
        raise CandleFileError(
            f"{column} {value}: at most {MAX_INTEGER_DIGITS} digits before the point and "
            f"{MAX_DECIMALS} after",
            where,
        )
    return number


def _candle(row: RawRow) -> Candle:
    where = row.where
    opened = _moment(row.time, where)
    prices = {
        name: _price(getattr(row, name), name, where) for name in ("open", "high", "low", "close")
    }
    volume = Decimal(0) if row.volume is None else _price(row.volume, "volume", where)
    for name, value in prices.items():
        if value <= 0:
            raise CandleFileError(f"{name} must be positive, not {value}", where)
    if volume < 0:
        raise CandleFileError(f"volume must not be negative, not {volume}", where)
    low, high = prices["low"], prices["high"]
    for name in ("open", "close"):
        if not low <= prices[name] <= high:
            raise CandleFileError(
                f"{name} {prices[name]} is outside low {low} .. high {high}", where
            )
    return Candle(opened, prices["open"], high, low, prices["close"], volume, _funding(row))


def _funding(row: RawRow) -> Decimal | None:
    value = row.funding
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    rate = _price(value, _FUNDING_HEADER, row.where)
    if abs(rate) >= _MAX_FUNDING:
        raise CandleFileError(
            f"{_FUNDING_HEADER} {rate} is not an hourly fraction (0.0000125 is 0.00125 % an hour)",
            row.where,
        )
    return rate


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def checked_candles(rows: Iterable[RawRow], *, interval: str, now: datetime) -> Iterator[Candle]:
    """The rows as candles, each checked as the module says; raises CandleFileError at
    the first row that fails (or, for an empty file or a wrong interval, at the end)."""
    width = step(interval)
    still_forming = floor_time(now, interval)
    previous: tuple[datetime, tuple[str, int]] | None = None
    closest: tuple[Any, tuple[str, int], tuple[str, int]] | None = None
    count = 0
    for row in rows:
        candle = _candle(row)
        opened = candle.open_time
        if floor_time(opened, interval) != opened:
            raise CandleFileError(
                f"open time {_z(opened)} is not on the {interval} grid", row.where
            )
        if opened >= still_forming:
            raise CandleFileError(
                f"the {interval} candle opening at {_z(opened)} has not closed yet", row.where
            )
        if previous is not None:
            before, before_where = previous
            if opened == before:
                raise CandleFileError(
                    f"duplicate open time {_z(opened)} (also {before_where[0]} {before_where[1]})",
                    row.where,
                )
            if opened < before:
                raise CandleFileError(
                    f"not sorted: {_z(opened)} comes after {_z(before)} "
                    f"({before_where[0]} {before_where[1]}); sort by time, oldest first",
                    row.where,
                )
            gap = opened - before
            if closest is None or gap < closest[0]:
                closest = (gap, before_where, row.where)
        count += 1
        if count > MAX_CANDLES:
            raise CandleFileError(f"more than {MAX_CANDLES} candles in one file", row.where)
        previous = (opened, row.where)
        yield candle
    if count == 0:
        raise CandleFileError("the file holds no candles")
    if closest is not None and closest[0] != width:
        gap, first, second = closest
        raise CandleFileError(
            f"candles are at least {gap} apart ({first[0]} {first[1]} and {second[1]}), "
            f"but the interval {interval} is {width}: is this the right --interval?",
            second,
        )


def summarise(candles: Iterable[Candle]) -> FileSummary:
    """Drains ``candles`` (checking all of them) and says what they cover."""
    count = 0
    first = last = None
    for candle in candles:
        count += 1
        first = first or candle.open_time
        last = candle.open_time
    assert first is not None and last is not None  # checked_candles refuses an empty file
    return FileSummary(count, first, last)


# Writing


def _plain(value: Decimal) -> str:
    """Without exponent or trailing zeros, so SQLite's and PostgreSQL's copies of one
    value export alike."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _with_funding(candles: Sequence[Candle]) -> bool:
    """Whether the file gets a funding column: only when some candle has a rate, so that
    plain candles export as the plain six columns."""
    return any(c.funding_rate is not None for c in candles)


def write_csv(candles: Sequence[Candle], text: IO[str]) -> int:
    writer = csv.writer(text, lineterminator="\n")
    funding = _with_funding(candles)
    writer.writerow((*_CSV_HEADER, _FUNDING_HEADER) if funding else _CSV_HEADER)
    for c in candles:
        cells = [_z(c.open_time), *(_plain(v) for v in (c.open, c.high, c.low, c.close, c.volume))]
        if funding:
            cells.append("" if c.funding_rate is None else _plain(c.funding_rate))
        writer.writerow(cells)
    return len(candles)


def write_parquet(candles: Sequence[Candle], binary: IO[bytes]) -> int:
    """Times as UTC milliseconds, prices and funding rates as float64 (what data tools
    expect; the CSV keeps the exact decimals)."""
    parquet = _pyarrow_parquet()
    import pyarrow

    columns = {
        "timestamp": pyarrow.array(
            [c.open_time for c in candles], type=pyarrow.timestamp("ms", tz="UTC")
        ),
        **{
            name: pyarrow.array([float(getattr(c, name)) for c in candles], pyarrow.float64())
            for name in ("open", "high", "low", "close", "volume")
        },
    }
    if _with_funding(candles):
        columns[_FUNDING_HEADER] = pyarrow.array(
            [None if c.funding_rate is None else float(c.funding_rate) for c in candles],
            pyarrow.float64(),
        )
    parquet.write_table(pyarrow.table(columns), binary)
    return len(candles)


def read_rows(binary: IO[bytes], file_format: FileFormat) -> Iterator[RawRow]:
    """The raw rows of a binary file handle in either format."""
    if file_format == "parquet":
        return parquet_rows(binary)
    return _csv_of(binary)


def _csv_of(binary: IO[bytes]) -> Iterator[RawRow]:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield from csv_rows(text)
    finally:
        # A wrapper closes the file it wraps when it goes, and the caller reads the file
        # again (unless it is gone already, when a generator left half-read is collected).
        with contextlib.suppress(ValueError):
            text.detach()
