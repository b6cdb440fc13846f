"""The services the domains share, built once at start-up into one typed container.

``open_services`` opens them in dependency order (database, vault, outbound guard, event
bus, market, jobs, sandbox, paper exchange) and closes them in reverse; ``app.py`` keeps
the result on ``app.state.services``. Domain lifespans only start their background tasks
and register their handlers on what is here.

Layering: this module imports the domains' types to build them, so domain packages never
import it; they read their piece through their own dependency (``DbSession``,
``market.dependencies.Market`` …), which reads this container. Flows and app-level code
take the whole container with the ``AppServices`` dependency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hyperoru.auth.profile_reads import ProfileReads
from hyperoru.auth.session_changes import Announcer, SessionChanges
from hyperoru.auth.token_cache import TokenCache
from hyperoru.backtests.finished_answers import FinishedAnswers
from hyperoru.db.engine import create_engine, create_sessionmaker
from hyperoru.db.migrate import upgrade_database
from hyperoru.db.versions import DataVersions, open_data_versions
from hyperoru.exchanges.connect import venue_connector
from hyperoru.exchanges.venue import VenueConnector
from hyperoru.health.router import HealthProbe
from hyperoru.jobs.runner import JobRunner
from hyperoru.market.price_cache import PriceCache
from hyperoru.market.providers import build_provider
from hyperoru.market.runtime import MarketRuntime, market_environment
from hyperoru.net.dependencies import build_outbound_guard
from hyperoru.net.policy import OutboundGuard
from hyperoru.programs.sandbox.configured import sandbox_for
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.ratelimit.limiter import RateLimiter
from hyperoru.realtime.bus import EventBus, open_event_bus
from hyperoru.realtime.handlers import HandlerRegistry
from hyperoru.realtime.hub import Hub
from hyperoru.settings import Settings
from hyperoru.trading.live.credentials import StoredCredentials
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.read_model import TraderReads
from hyperoru.trading.runtime import TradingRuntime, build_trading
from hyperoru.vault.cipher import SecretBox
from hyperoru.vault.keys import load_keyring
from hyperoru.warmup import warming_up


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    limiter: RateLimiter
    token_cache: TokenCache
    session_changes: SessionChanges
    # Filled by the domains that report a health line (market data); read by /api/health.
    health_probes: dict[str, HealthProbe]
    secret_box: SecretBox
    outbound_guard: OutboundGuard
    bus: EventBus
    ws_hub: Hub
    ws_handlers: HandlerRegistry
    market: MarketRuntime
    jobs: JobRunner
    sandbox: Sandbox
    trading: TradingRuntime
    # Per-user data versions and the read copies that compare with them (read paths).
    versions: DataVersions
    trader_reads: TraderReads
    profile_reads: ProfileReads
    backtest_answers: FinishedAnswers
    # Opens live venue adapters (exchanges/connect.py); tests swap in one that reaches
    # loopback fakes.
    venues: VenueConnector
    # The app's clock (StartupOptions.clock): two-factor time steps; tests drive it.
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class StartupOptions:
    """What the assembling code decides for the services (tests drive the clock)."""

    # Turns the bus into the announcer of session changes (the revocation fan-out flow).
    announcer_for: Callable[[EventBus], Announcer]
    # Reads the app's container as it is now: the paper exchange reads its market
    # through it on every call, so a replaced market (tests) is seen at once.
    current: Callable[[], Services]
    clock: Callable[[], datetime]


@asynccontextmanager
async def open_services(settings: Settings, options: StartupOptions) -> AsyncIterator[Services]:
    engine = create_engine(settings)
    try:
        # Heavy imports and mapper set-up happen beside the migrations, not in a request.
        async with warming_up():
            await upgrade_database(engine)
        sessionmaker = create_sessionmaker(engine)
        async with open_event_bus(settings) as bus, open_data_versions(settings) as versions:
            provider = build_provider(settings)
            try:
                token_cache = TokenCache(settings.token_cache_seconds)
                jobs = JobRunner(
                    sessionmaker,
                    lease_seconds=settings.jobs_lease_seconds,
                    poll_seconds=settings.jobs_poll_seconds,
                    concurrency=settings.jobs_concurrency,
                )
                feed = MarketFeed(lambda: options.current().market)
                secret_box = SecretBox(load_keyring(settings))
                trading = build_trading(
                    sessionmaker=sessionmaker,
                    feed=feed,
                    clock=options.clock,
                    bus=lambda: bus,
                    changed=versions.bump,
                    venues=lambda: options.current().venues,
                    credentials=StoredCredentials(sessionmaker, secret_box),
                )
                services = Services(
                    settings=settings,
                    engine=engine,
                    sessionmaker=sessionmaker,
                    limiter=RateLimiter(settings.redis_url),
                    token_cache=token_cache,
                    session_changes=SessionChanges(
                        token_cache, options.announcer_for(bus), versions
                    ),
                    health_probes={},
                    secret_box=secret_box,
                    outbound_guard=build_outbound_guard(settings),
                    bus=bus,
                    ws_hub=Hub(),
                    ws_handlers=HandlerRegistry(),
                    market=MarketRuntime(
                        provider,
                        PriceCache(
                            provider,
                            symbols=settings.market_symbol_list,
                            refresh_seconds=settings.market_refresh_seconds,
                        ),
                        market_environment(settings),
                    ),
                    jobs=jobs,
                    sandbox=sandbox_for(settings),
                    trading=trading,
                    versions=versions,
                    trader_reads=TraderReads(sessionmaker, versions, feed, clock=options.clock),
                    profile_reads=ProfileReads(sessionmaker, versions),
                    backtest_answers=FinishedAnswers(versions),
                    venues=venue_connector(settings),
                    clock=options.clock,
                )
                await jobs.start()
                try:
                    yield services
                finally:
                    await jobs.stop()
            finally:
                await provider.aclose()
    finally:
        await engine.dispose()


def services_of(app: FastAPI) -> Services:
    return app.state.services


async def get_services(request: Request) -> Services:
    return request.app.state.services


AppServices = Annotated[Services, Depends(get_services)]
