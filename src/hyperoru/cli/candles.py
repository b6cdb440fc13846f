"""`hyperoru candles …`: bring your own candles (import), take them out (export), delete
them."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hyperoru.cli.common import database, err, fail, load_settings, market, out, owner_id_of
from hyperoru.errors import ApiError
from hyperoru.market import imported
from hyperoru.market.candle_files import (
    FORMATS,
    FileFormat,
    ParquetUnavailable,
    format_of,
    write_csv,
    write_parquet,
)
from hyperoru.market.candle_store import Coverage
from hyperoru.market.errors import as_api_error
from hyperoru.market.providers.base import Candle, ProviderError
from hyperoru.market.timeparse import parse_moment
from hyperoru.timeutils import isoformat_z, utcnow

candles_app = typer.Typer(help="Your own candles: import and export", no_args_is_help=True)

_USER = typer.Option(
    "--user",
    help="Store for this user alone (username or email); without it, for every user's backtests",
    show_default=False,
)
_WHOSE_IMPORTS = typer.Option("--user", help="This user's imports (default: the shared ones)")
_FORMAT = typer.Option(
    "--format", help="csv or parquet (default: from the file name)", show_default=False
)


def _format(name: str, chosen: str | None) -> FileFormat:
    if chosen is None:
        return format_of(name)
    if chosen not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    return "parquet" if chosen == "parquet" else "csv"


def _error_text(exc: ApiError) -> str:
    return f"{exc.message} ({exc.code})"


@candles_app.command("import")
def candles_import(
    file: Annotated[
        Path,
        typer.Argument(help="CSV or Parquet file", exists=True, dir_okay=False, readable=True),
    ],
    symbol: Annotated[str, typer.Option(help="Symbol to store them as, e.g. MYCOIN")],
    interval: Annotated[str, typer.Option(help="Candle interval: 1m 5m 15m 1h 4h 1d")],
    user: Annotated[str | None, _USER] = None,
    file_format: Annotated[str | None, _FORMAT] = None,
) -> None:
    """Import candles for backtests. The file is checked first (sorted, no duplicates,
    low <= open, close <= high, positive prices, volume >= 0, on the interval's grid); the
    first bad line is named. Replaces the same symbol's candles in the file's span."""
    settings = load_settings()
    chosen = _format(file.name, file_format)

    async def run() -> imported.ImportResult:
        async with database(settings) as sessionmaker, sessionmaker() as session:
            owner = await owner_id_of(session, user)
            with file.open("rb") as binary:
                return await imported.import_file(
                    session,
                    owner_id=owner,
                    symbol=symbol,
                    interval=interval,
                    binary=binary,
                    file_format=chosen,
                )

    try:
        result = asyncio.run(run())
    except ApiError as exc:
        fail(f"{file}: {_error_text(exc)}")
    whose = f"for {user}" if user else "for every user"
    out.print(
        f"imported {result.candles} {result.interval} candles of {result.symbol} "
        f"({isoformat_z(result.first)} to {isoformat_z(result.last)}) {whose}"
        + (f"; replaced {result.replaced}" if result.replaced else "")
    )


def _moment(value: str | None, option: str) -> datetime | None:
    try:
        return parse_moment(value, option)
    except ApiError as exc:
        fail(exc.message)


@candles_app.command("list")
def candles_list(
    user: Annotated[str | None, _WHOSE_IMPORTS] = None,
) -> None:
    """Imported candles: each symbol and interval with its first and last candle."""
    settings = load_settings()

    async def run() -> list[Coverage]:
        async with database(settings) as sessionmaker, sessionmaker() as session:
            return await imported.coverage(session, owner_id=await owner_id_of(session, user))

    found = asyncio.run(run())
    if not found:
        out.print("nothing imported yet: see `hyperoru candles import --help`")
        return
    table = Table("symbol", "interval", "first", "last", "candles")
    for c in found:
        table.add_row(
            c.symbol,
            c.interval,
            isoformat_z(c.earliest),
            isoformat_z(c.latest),
            str(c.total_candles),
        )
    out.print(table)


@candles_app.command("delete")
def candles_delete(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. MYCOIN")],
    interval: Annotated[
        str | None,
        typer.Option(help="Only this interval (default: every interval)", show_default=False),
    ] = None,
    user: Annotated[str | None, _WHOSE_IMPORTS] = None,
) -> None:
    """Delete imported candles of a symbol (the market's own data is never touched)."""
    settings = load_settings()

    async def run() -> int:
        async with database(settings) as sessionmaker, sessionmaker() as session:
            owner = await owner_id_of(session, user)
            name, span = imported.checked_selection(symbol, interval)
            return await imported.remove(session, owner_id=owner, symbol=name, interval=span)

    try:
        removed = asyncio.run(run())
    except ApiError as exc:
        fail(_error_text(exc))
    if removed == 0:
        fail(f"no imported candles of {symbol.upper()}" + (f" {interval}" if interval else ""))
    out.print(f"deleted {removed} imported candles of {symbol.upper()}")


@candles_app.command("export")
def candles_export(
    file: Annotated[str, typer.Argument(help="Where to write; - for standard output (CSV)")],
    symbol: Annotated[str, typer.Option(help="Symbol, e.g. BTC or MYCOIN")],
    interval: Annotated[str, typer.Option(help="Candle interval: 1m 5m 15m 1h 4h 1d")],
    start: Annotated[
        str, typer.Option("--from", help="First open time (ISO date or time, or epoch)")
    ],
    end: Annotated[
        str | None, typer.Option("--to", help="End, exclusive (default: now)", show_default=False)
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Read this user's imported candles first", show_default=False),
    ] = None,
    file_format: Annotated[str | None, _FORMAT] = None,
) -> None:
    """Export the candles a backtest would read: imported ones, else the market's (stored
    ones, the missing ones fetched and stored)."""
    settings = load_settings()
    chosen = _format(file, file_format)
    if file == "-" and chosen == "parquet":
        fail("Parquet needs a file name, not -")
    first = _moment(start, "--from")
    last = _moment(end, "--to") or utcnow()
    assert first is not None

    async def run() -> tuple[str, list[Candle]]:
        async with database(settings) as sessionmaker, market(settings) as runtime:
            async with sessionmaker() as session:
                owner = await owner_id_of(session, user)
            return await imported.candles_for_export(
                sessionmaker,
                runtime.provider,
                owner_id=owner,
                symbol=symbol,
                interval=interval,
                start=first,
                end=last,
            )

    try:
        dataset, candles = asyncio.run(run())
    except ApiError as exc:
        fail(_error_text(exc))
    except ProviderError as exc:
        fail(_error_text(as_api_error(exc)))
    try:
        if file == "-":
            write_csv(candles, sys.stdout)
        elif chosen == "parquet":
            with open(file, "wb") as binary:
                write_parquet(candles, binary)
        else:
            with open(file, "w", encoding="utf-8", newline="") as text:
                write_csv(candles, text)
    except ParquetUnavailable as exc:
        fail(str(exc))
    summary = f"exported {len(candles)} {interval} candles of {symbol.upper()} from {dataset}"
    (err if file == "-" else out).print(summary)
