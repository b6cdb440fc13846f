"""`hyperoru traders …`: the operator's hand on running traders (no login needed)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from hyperoru.cli.common import database, fail, load_settings, market, out, owner_id_of
from hyperoru.db.versions import open_data_versions
from hyperoru.errors import ApiError
from hyperoru.exchanges.connect import venue_connector
from hyperoru.realtime.bus import open_event_bus
from hyperoru.settings import Settings
from hyperoru.timeutils import utcnow
from hyperoru.trading.live.credentials import StoredCredentials
from hyperoru.trading.live.kill import KillReport, kill_trader, kill_user
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.runtime import build_trading
from hyperoru.vault.cipher import SecretBox
from hyperoru.vault.keys import load_keyring

traders_app = typer.Typer(help="Running traders", no_args_is_help=True)


async def kill(
    settings: Settings, *, account_id: int | None, username: str | None, flatten: bool
) -> list[KillReport]:
    """The kill switch through the trading objects the server builds (paper and live),
    without the rest of a server (no job runner, no background tasks)."""
    async with (
        database(settings) as sessionmaker,
        market(settings) as runtime,
        open_event_bus(settings) as bus,
        open_data_versions(settings) as versions,
    ):
        connector = venue_connector(settings)
        trading = build_trading(
            sessionmaker=sessionmaker,
            feed=MarketFeed(lambda: runtime),
            clock=utcnow,
            bus=lambda: bus,
            changed=versions.bump,
            venues=lambda: connector,
            credentials=StoredCredentials(sessionmaker, SecretBox(load_keyring(settings))),
        )
        try:
            if username is not None:
                async with sessionmaker() as session:
                    user_id = await owner_id_of(session, username)
                assert user_id is not None
                return await kill_user(trading.exchanges, user_id, flatten=flatten)
            assert account_id is not None
            return [await kill_trader(trading.exchanges, account_id, flatten=flatten)]
        finally:
            await trading.live.aclose()


@traders_app.command("kill")
def traders_kill(
    account_id: Annotated[int | None, typer.Argument(help="The trader's id")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Every trader of this username")
    ] = None,
    flatten: Annotated[
        bool, typer.Option("--flatten", help="Also close positions (reduce-only market orders)")
    ] = False,
) -> None:
    """Stop a trader (or all of a user's), cancel its open orders, optionally flatten."""
    if (account_id is None) == (user is None):
        fail("name one trader ID or --user USERNAME")
    settings = load_settings()
    try:
        reports = asyncio.run(kill(settings, account_id=account_id, username=user, flatten=flatten))
    except ApiError as exc:
        fail(f"{exc.message} ({exc.code})")
    out.print_json(
        json.dumps(
            [
                {
                    "account_id": r.account_id,
                    "execution_mode": r.execution_mode,
                    "stopped": r.stopped,
                    "orders_cancelled": r.orders_cancelled,
                    "positions_closed": r.positions_closed,
                    "errors": r.errors,
                }
                for r in reports
            ]
        )
    )
    if any(r.errors for r in reports):
        raise typer.Exit(2)
