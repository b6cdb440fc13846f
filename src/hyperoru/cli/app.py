"""The `hyperoru` command: the root app, its global options and its command groups.

Each group lives in its own module (``serve``, ``db``, ``users``, ``candles``,
``backtest``; ``secrets`` in ``vault.cli``); settings and logging for every command come
from ``common.load_settings``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hyperoru import __version__
from hyperoru.cli.backtest import backtest
from hyperoru.cli.candles import candles_app
from hyperoru.cli.common import options
from hyperoru.cli.db import db_app
from hyperoru.cli.serve import serve, worker
from hyperoru.cli.traders import traders_app
from hyperoru.cli.users import users_app
from hyperoru.vault.cli import secrets_app

app = typer.Typer(
    help="Hyperoru server: AI crypto traders behind a REST and WebSocket API",
    no_args_is_help=True,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"hyperoru {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit", is_eager=True, callback=_show_version
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log more (migrations included)")
    ] = False,
) -> None:
    """Hyperoru server: AI crypto traders behind a REST and WebSocket API."""
    options.verbose = verbose


app.command()(serve)
app.command()(worker)
app.command()(backtest)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(candles_app, name="candles")
app.add_typer(secrets_app, name="secrets")
app.add_typer(traders_app, name="traders")


def main() -> None:
    app()
