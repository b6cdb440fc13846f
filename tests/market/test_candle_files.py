"""Reading and checking candle files (CSV always, Parquet with the optional extra)."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hyperoru.market.candle_files import (
    CandleFileError,
    ParquetUnavailable,
    checked_candles,
    read_rows,
    summarise,
    write_csv,
    write_parquet,
)
from tests.market.candle_csv import as_csv, hourly_walk

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def read(text: str, interval: str = "1h") -> list:
    binary = io.BytesIO(text.encode())
    return list(checked_candles(read_rows(binary, "csv"), interval=interval, now=NOW))


def test_a_csv_with_a_header_reads_back_exactly() -> None:
    candles = hourly_walk(48)
    assert read(as_csv(candles)) == candles


def test_columns_in_any_order_other_columns_ignored_volume_optional() -> None:
    text = (
        "Close,Trades,Date,High,Open,Low\n"
        "2.6,10,2026-01-01T00:00:00Z,2.7,2.5,2.4\n"
        "2.65,3,2026-01-01 01:00:00,2.7,2.6,2.55\n"
    )
    first, second = read(text)
    assert (first.open, first.high, first.low, first.close) == (
        Decimal("2.5"),
        Decimal("2.7"),
        Decimal("2.4"),
        Decimal("2.6"),
    )
    assert first.volume == 0
    assert second.open_time == datetime(2026, 1, 1, 1, tzinfo=UTC)


def test_a_pandas_csv_takes_its_unnamed_first_column_as_the_time() -> None:
    # DataFrame.to_csv() with a DatetimeIndex: the index comes first, its header empty.
    text = (
        ",Open,High,Low,Close,Volume\n"
        "2026-01-01 00:00:00,1.0716,1.0722,1.07083,1.07219,1413\n"
        "2026-01-01 01:00:00,1.07214,1.07296,1.07214,1.0726,1241\n"
    )
    first, second = read(text)
    assert first.open_time == datetime(2026, 1, 1, tzinfo=UTC)
    assert (second.open, second.close, second.volume) == (
        Decimal("1.07214"),
        Decimal("1.0726"),
        Decimal("1241"),
    )
    # A named time column still wins over an unnamed first column (a row number).
    named = read(",timestamp,open,high,low,close\n7,2026-01-01T00:00:00Z,2.5,2.7,2.4,2.6\n")
    assert named[0].open_time == datetime(2026, 1, 1, tzinfo=UTC)


def test_headerless_binance_layout_with_epoch_milliseconds() -> None:
    # Binance's kline CSV: open time (ms), OHLCV, close time and more, no header.
    text = (
        "1767225600000,2.5,2.7,2.4,2.6,100,1767229199999,260,5\n"
        "1767229200000,2.6,2.7,2.5,2.65,90,1767232799999,240,4\n"
    )
    candles = read(text)
    assert [c.open_time for c in candles] == [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 1, tzinfo=UTC),
    ]
    assert candles[1].volume == Decimal(90)


GOOD = "2026-01-01T00:00:00Z,2.5,2.7,2.4,2.6,100"
BAD_FILES = [
    # (second data line, the line named, words of the message)
    ("2026-01-01T00:00:00Z,2.5,2.7,2.4,2.6,100", 3, "duplicate open time"),
    ("2025-12-31T23:00:00Z,2.5,2.7,2.4,2.6,100", 3, "not sorted"),
    ("2026-01-01T01:30:00Z,2.5,2.7,2.4,2.6,100", 3, "not on the 1h grid"),
    ("2026-01-01T01:00:00Z,2.5,2.7,2.4,2.8,100", 3, "close 2.8 is outside"),
    ("2026-01-01T01:00:00Z,2.3,2.7,2.4,2.6,100", 3, "open 2.3 is outside"),
    ("2026-01-01T01:00:00Z,2.5,2.7,2.4,2.6,-1", 3, "volume must not be negative"),
    ("2026-01-01T01:00:00Z,0,0,0,0,1", 3, "open must be positive"),
    ("2026-01-01T01:00:00Z,2.5,2.7,abc,2.6,1", 3, "low 'abc' is not a number"),
    ("2026-01-01T01:00:00Z,2.5,2.7,NaN,2.6,1", 3, "finite"),
    ("2026-01-01T01:00:00Z,2.5,2.7,2.4", 3, "missing the close column"),
    ("yesterday,2.5,2.7,2.4,2.6,1", 3, "open time 'yesterday'"),
    ("2026-01-01T01:00:00Z,2.5,2.7,2.4,2.6,0.0000000000000000001", 3, "18 after"),
    ("2027-01-01T00:00:00Z,2.5,2.7,2.4,2.6,1", 3, "has not closed yet"),
]


@pytest.mark.parametrize(("line", "number", "words"), BAD_FILES)
def test_the_first_bad_line_is_named(line: str, number: int, words: str) -> None:
    with pytest.raises(CandleFileError) as caught:
        read(f"timestamp,open,high,low,close,volume\n{GOOD}\n{line}\n")
    assert caught.value.where == ("line", number)
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"line {number}: ")


def test_blank_lines_keep_the_line_numbers_of_the_file() -> None:
    with pytest.raises(CandleFileError) as caught:
        read(f"timestamp,open,high,low,close\n\n{GOOD}\n\n{GOOD}\n")
    assert caught.value.where == ("line", 5)


def test_a_file_of_another_interval_is_refused() -> None:
    # Hourly candles declared as minute candles: every one is on the minute grid, but the
    # closest two are an hour apart.
    with pytest.raises(CandleFileError) as caught:
        read(as_csv(hourly_walk(5)), interval="1m")
    assert "is this the right --interval" in str(caught.value)
    assert caught.value.where == ("line", 3)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no candles"),
        ("timestamp,open,high,low,close\n", "no candles"),
        ("when,open,high,low,close\n" + GOOD + "\n", "header lacks time"),
        ("timestamp,open,high,low,close\n\xff\xfe\n", "not UTF-8"),
    ],
)
def test_empty_or_unreadable_files_are_refused(text: str, words: str) -> None:
    binary = io.BytesIO(text.encode("latin-1"))
    with pytest.raises(CandleFileError) as caught:
        list(checked_candles(read_rows(binary, "csv"), interval="1h", now=NOW))
    assert words in str(caught.value)


def test_the_file_is_read_twice_from_one_handle() -> None:
    # The import checks the whole file, then stores it: reading must not close the file.
    binary = io.BytesIO(as_csv(hourly_walk(10)).encode())
    summary = summarise(checked_candles(read_rows(binary, "csv"), interval="1h", now=NOW))
    binary.seek(0)
    again = list(checked_candles(read_rows(binary, "csv"), interval="1h", now=NOW))
    assert summary.candles == len(again) == 10
    assert (summary.first, summary.last) == (again[0].open_time, again[-1].open_time)


def test_csv_export_reads_back_as_the_same_candles() -> None:
    candles = hourly_walk(30)
    text = io.StringIO()
    assert write_csv(candles, text) == 30
    assert read(text.getvalue()) == candles
    # Trailing zeros (PostgreSQL's NUMERIC(38, 18)) are not written.
    padded = replace(candles[0], open=Decimal("2.500000000000000000"))
    line = io.StringIO()
    write_csv([padded], line)
    assert ",2.5," in line.getvalue()


def test_parquet_round_trip() -> None:
    pytest.importorskip("pyarrow", reason="the optional parquet extra is not installed")
    candles = hourly_walk(50)
    binary = io.BytesIO()
    assert write_parquet(candles, binary) == 50
    binary.seek(0)
    back = list(checked_candles(read_rows(binary, "parquet"), interval="1h", now=NOW))
    assert back == candles


def test_parquet_errors_name_the_row() -> None:
    pytest.importorskip("pyarrow", reason="the optional parquet extra is not installed")
    candles = hourly_walk(5)
    candles[3] = candles[2]
    binary = io.BytesIO()
    write_parquet(candles, binary)
    binary.seek(0)
    with pytest.raises(CandleFileError) as caught:
        list(checked_candles(read_rows(binary, "parquet"), interval="1h", now=NOW))
    assert caught.value.where == ("row", 4)
    assert "duplicate" in str(caught.value)


def test_without_pyarrow_parquet_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if pyarrow were not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ParquetUnavailable) as caught:
        list(read_rows(io.BytesIO(b"PAR1"), "parquet"))
    assert "pip install 'hyperoru[parquet]'" in str(caught.value)
