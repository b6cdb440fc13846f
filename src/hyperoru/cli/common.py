"""What every command shares: settings and logging, the database, the market, output."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.auth import service as auth_service
from hyperoru.auth.session_changes import SessionChanges
from hyperoru.auth.token_cache import TokenCache
from hyperoru.db.engine import create_engine, create_sessionmaker
from hyperoru.db.migrate import upgrade_database
from hyperoru.flows.sessions import announcer_for
from hyperoru.logging_setup import configure_logging
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers import build_provider
from hyperoru.market.runtime import MarketRuntime, market_environment
from hyperoru.realtime.bus import open_event_bus
from hyperoru.settings import Settings

T = TypeVar("T")

# Results go to standard output, everything else (progress, errors, logs) to standard
# error, so that `--json` output can be piped as it is.
# No markup: names and messages are printed as they are, brackets included.
out = Console(highlight=False, markup=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


class _Options:
    verbose = False


options = _Options()


def load_settings(*, server: bool = False) -> Settings:
    """The settings, with logging set up. Migrations log only with -v (every command
    upgrades the database first); one-shot commands log warnings only unless -v, the
    server and worker at HYPERORU_LOG_LEVEL."""
    settings = Settings()
    level = settings.log_level if server or options.verbose else "WARNING"
    configure_logging(level)
    logging.getLogger("alembic").setLevel(logging.INFO if options.verbose else logging.WARNING)
    return settings


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(code)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The database, migrated, for the length of the block."""
    engine = create_engine(settings)
    try:
        await upgrade_database(engine)
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def market(settings: Settings) -> AsyncIterator[MarketRuntime]:
    """The market data source the server would use (HYPERORU_MARKET_DATA)."""
    provider = build_provider(settings)
    try:
        cache = PriceCache(
            provider,
            symbols=settings.market_symbol_list,
            refresh_seconds=settings.market_refresh_seconds,
        )
        yield MarketRuntime(provider, cache, market_environment(settings))
    finally:
        await provider.aclose()


def with_session(
    settings: Settings, work: Callable[[AsyncSession, SessionChanges], Awaitable[T]]
) -> T:
    """Run ``work`` in a session; session changes are announced to running servers over
    the event bus when Redis is configured (otherwise they see them within their cache
    TTL, HYPERORU_TOKEN_CACHE_SECONDS)."""

    async def run() -> T:
        async with (
            database(settings) as sessionmaker,
            open_event_bus(settings) as bus,
            sessionmaker() as session,
        ):
            return await work(session, SessionChanges(TokenCache(0), announcer_for(bus)))

    return asyncio.run(run())


async def owner_id_of(session: AsyncSession, username: str | None) -> int | None:
    """The id of ``--user`` (None without it); exits when there is no such user."""
    if username is None:
        return None
    user = await auth_service.find_user(session, username)
    if user is None:
        fail(f"no such user: {username}")
    return user.id
