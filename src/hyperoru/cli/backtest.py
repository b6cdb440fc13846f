"""`hyperoru backtest PROGRAM_FILE`: a program backtest on this machine, on the server's
path (``backtests.local``): the same planning, candles and sandbox as a backtest job."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hyperoru.backtests.results import results_json
from hyperoru.cli.common import database, err, fail, load_settings, market, out, owner_id_of
from hyperoru.errors import ApiError
from hyperoru.timeutils import isoformat_z, utcnow

if TYPE_CHECKING:
    from hyperoru.backtests.local import LocalBacktest
    from hyperoru.backtests.schemas import BacktestConfig

# Trades shown in the table (all of them are in --json).
SHOWN_TRADES = 50


def _config(
    symbols: str, start: str, end: str | None, interval: str, balance: float, params: str | None
) -> tuple[BacktestConfig, dict[str, Any]]:
    from hyperoru.backtests.schemas import BacktestConfig

    try:
        parsed = json.loads(params) if params else {}
    except json.JSONDecodeError as exc:
        fail(f"--params is not JSON: {exc}")
    if not isinstance(parsed, dict):
        fail("--params must be a JSON object")
    try:
        config = BacktestConfig.model_validate(
            {
                "symbols": [s.strip() for s in symbols.split(",") if s.strip()],
                "start_date": start,
                "end_date": end or isoformat_z(utcnow()),
                "interval": interval,
                "initial_balance": str(balance),
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        fail(problems)
    return config, parsed


def backtest(
    program_file: Annotated[
        Path,
        typer.Argument(
            help="Python file with the program (a Strategy class)",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    symbols: Annotated[str, typer.Option(help="Comma-separated symbols, e.g. BTC,ETH")],
    start: Annotated[str, typer.Option("--from", help="Start (ISO date or time, or epoch)")],
    end: Annotated[
        str | None,
        typer.Option("--to", help="End, exclusive (default: now)", show_default=False),
    ] = None,
    interval: Annotated[str, typer.Option(help="Candle interval: 1m 5m 15m 1h 4h 1d")] = "1h",
    initial_balance: Annotated[float, typer.Option(help="Starting balance in USD")] = 10_000.0,
    params: Annotated[
        str | None,
        typer.Option(help="The program's params as a JSON object", show_default=False),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Use this user's imported candles first", show_default=False),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object and nothing else on stdout")
    ] = False,
) -> None:
    """Backtest a program here: candles from the local store (imported ones first) or the
    market source, the program in the same sandbox as on the server; metrics and trades."""
    # Imported here so that the other commands start fast.
    from hyperoru.backtests.local import LocalBacktestFailed, run_local_backtest
    from hyperoru.programs.sandbox.launcher import Sandbox

    settings = load_settings()
    code = program_file.read_text(encoding="utf-8")
    config, program_params = _config(symbols, start, end, interval, initial_balance, params)

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json,
    )

    async def run() -> LocalBacktest:
        task = progress.add_task(f"backtest {program_file.name}", total=1.0)

        async def advance(done: float) -> None:
            progress.update(task, completed=done)

        async with database(settings) as sessionmaker, market(settings) as runtime:
            async with sessionmaker() as session:
                owner = await owner_id_of(session, user)
            return await run_local_backtest(
                sessionmaker,
                runtime,
                Sandbox(),
                code=code,
                config=config,
                params=program_params,
                owner_id=owner,
                max_candles=settings.backtest_max_candles,
                on_progress=advance,
                factor_engine=settings.factor_engine == "enabled",
            )

    try:
        with progress:
            done = asyncio.run(run())
    except ApiError as exc:
        _failed(as_json, exc.message, exc.code, [])
    except LocalBacktestFailed as exc:
        _failed(as_json, str(exc), "BACKTEST_FAILED", exc.logs)
    if as_json:
        typer.echo(json.dumps(_plain(done)))
    else:
        _print(done)


def _failed(as_json: bool, message: str, code: str, logs: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps({"status": "failed", "error": message, "code": code, "logs": logs}))
        raise typer.Exit(1)
    for line in logs[-20:]:
        err.print(line, soft_wrap=True)
    fail(f"{message} ({code})")


def _plain(done: LocalBacktest) -> dict[str, Any]:
    result = done.result
    return {
        "status": "completed",
        "config": done.plan.describe(),
        "imported_symbols": dict(done.sources),
        "bars": done.bars,
        **results_json(result),
        "logs": done.logs,
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _when(value: Any) -> str:
    """``2026-01-01T05:00:00Z`` as ``01-01 05:00`` (the heading line has the years): the
    table must fit 80 columns."""
    text = _text(value)
    return text[5:16].replace("T", " ") if len(text) >= 16 else text


def _number(value: Any, places: int | None = None) -> str:
    """For reading only (--json has the values as the API sends them): at most 6
    significant digits, or
    ``places`` decimals."""
    if value is None:
        return ""
    number = float(value)
    return f"{number:.{places}f}" if places is not None else f"{number:.6g}"


def _print(done: LocalBacktest) -> None:
    plan, result = done.plan, done.result
    sources = ", ".join(f"{s} (imported)" if s in done.sources else s for s in plan.symbols)
    out.print(
        f"{sources}, {plan.interval}, {isoformat_z(plan.start)} to {isoformat_z(plan.end)}: "
        f"{done.bars} bars"
    )
    metrics = Table("metric", "value", title="Metrics", title_justify="left")
    for name, value in result["metrics"].items():
        metrics.add_row(name, _text(value))
    out.print(metrics)
    trades = result["trades"]
    table = Table(
        "symbol",
        "side",
        "entry",
        "entry price",
        "exit",
        "exit price",
        "pnl",
        "reason",
        title=f"Trades ({len(trades)})",
        title_justify="left",
    )
    for trade in trades[:SHOWN_TRADES]:
        table.add_row(
            _text(trade.get("symbol")),
            _text(trade.get("side")),
            _when(trade.get("entry_time")),
            _number(trade.get("entry_price")),
            _when(trade.get("exit_time")),
            _number(trade.get("exit_price")),
            _number(trade.get("pnl"), places=2),
            _text(trade.get("exit_reason")),
        )
    out.print(table)
    if len(trades) > SHOWN_TRADES:
        out.print(f"… and {len(trades) - SHOWN_TRADES} more (all of them with --json)")
    out.print(f"fingerprint {result['fingerprint']}")
