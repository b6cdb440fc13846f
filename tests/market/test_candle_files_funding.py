"""The optional hourly_funding_rate column of candle files: written when candles have a rate,
read back to the same rates (CSV exactly, Parquet as the same floats), checked."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest

from hyperoru.market.candle_files import (
    CandleFileError,
    checked_candles,
    read_rows,
    write_csv,
    write_parquet,
)
from tests.market.candle_csv import hourly_walk
from tests.market.test_candle_files import NOW, read

RATES = [Decimal("0.0000125"), Decimal("-0.00000731"), None, Decimal("0.00001543125")]


def _with_rates() -> list:
    return [replace(c, funding_rate=r) for c, r in zip(hourly_walk(4), RATES, strict=True)]


def test_csv_writes_and_reads_the_funding_column_exactly() -> None:
    text = io.StringIO()
    write_csv(_with_rates(), text)
    lines = text.getvalue().splitlines()
    assert lines[0] == "timestamp,open,high,low,close,volume,hourly_funding_rate"
    assert lines[3].endswith(",")  # unknown: left blank
    assert [c.funding_rate for c in read(text.getvalue())] == RATES


def test_candles_without_rates_keep_the_six_plain_columns() -> None:
    text = io.StringIO()
    write_csv(hourly_walk(3), text)
    assert text.getvalue().splitlines()[0] == "timestamp,open,high,low,close,volume"
    assert all(c.funding_rate is None for c in read(text.getvalue()))


def test_parquet_carries_the_rates_as_the_same_floats() -> None:
    pytest.importorskip("pyarrow", reason="the optional parquet extra is not installed")
    binary = io.BytesIO()
    write_parquet(_with_rates(), binary)
    binary.seek(0)
    back = list(checked_candles(read_rows(binary, "parquet"), interval="1h", now=NOW))
    assert [None if c.funding_rate is None else float(c.funding_rate) for c in back] == [
        None if r is None else float(r) for r in RATES
    ]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("0.01%", "hourly_funding_rate '0.01%' is not a number"),
        ("1.5", "hourly_funding_rate 1.5 is not an hourly fraction"),
        ("-1", "hourly_funding_rate -1 is not an hourly fraction"),
        ("1e-30", "hourly_funding_rate 1e-30: at most 20 digits before the point and 18 after"),
    ],
)
def test_a_bad_rate_is_refused_with_its_line(cell: str, message: str) -> None:
    text = (
        "timestamp,open,high,low,close,volume,hourly_funding_rate\n"
        "2026-01-01T00:00:00Z,2.5,2.6,2.4,2.5,10,0.00001\n"
        f"2026-01-01T01:00:00Z,2.5,2.6,2.4,2.5,10,{cell}\n"
    )
    with pytest.raises(CandleFileError) as caught:
        read(text)
    assert caught.value.where == ("line", 3)
    assert str(caught.value).startswith(f"line 3: {message}")
