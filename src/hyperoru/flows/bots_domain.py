"""Telegram and Discord bots: the routes of ``notifications``, with the trader desk its
commands use (a flow: it reads trading and changes traders) and, in the embedded default,
the delivery worker, the daily summaries and Telegram long polling in this process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.domain import Domain
from hyperoru.flows.bot_desk import BotDesk
from hyperoru.notifications.delivery import DeliveryWorker, prune
from hyperoru.notifications.inbound import TelegramPoller
from hyperoru.notifications.platforms import Discord, Telegram
from hyperoru.notifications.router import bot_router, bots_router, inbound_router
from hyperoru.notifications.runtime import BotRuntime
from hyperoru.notifications.service import Platforms
from hyperoru.notifications.summary import DailySummaries
from hyperoru.process_identity import worker_identity
from hyperoru.stopping import cancel_and_wait
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.notifications")


async def _every(
    seconds: float, step: Callable[[], Awaitable[object]], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            await step()
        except Exception:  # one failed round must not end delivery for good
            log.exception("bot background step failed", extra={"event": "bot_step_failed"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _daily(
    summaries: DailySummaries,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
) -> None:
    await summaries.tick()
    await prune(sessions, clock())


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = app.state.services
    settings = services.settings
    # Tests drive the bots' clock by setting this before start-up.
    clock = getattr(app.state, "bots_clock", utcnow)
    http = httpx.AsyncClient(timeout=httpx.Timeout(15.0), follow_redirects=False, trust_env=False)
    platforms = Platforms(
        telegram=Telegram(http, settings.telegram_api_url.rstrip("/")),
        discord=Discord(http, settings.discord_api_url.rstrip("/")),
        public_url=settings.public_url,
    )
    desk = BotDesk(services.secret_box, services.outbound_guard, services.versions)
    app.state.bots = BotRuntime(platforms, desk, services.secret_box)
    worker = DeliveryWorker(
        services.sessionmaker,
        services.secret_box,
        platforms.telegram,
        platforms.discord,
        owner=worker_identity(),
        clock=clock,
    )
    poller = TelegramPoller(
        services.sessionmaker, services.secret_box, platforms.telegram, desk, clock
    )
    summaries = DailySummaries(services.sessionmaker, desk, clock)
    app.state.bot_worker, app.state.bot_poller, app.state.bot_summaries = worker, poller, summaries
    stop = asyncio.Event()
    runners: list[asyncio.Task[None]] = []
    if settings.bots == "embedded":
        tick = settings.bots_tick_seconds
        runners = [
            asyncio.create_task(_every(tick, worker.tick, stop), name="bot-delivery"),
            asyncio.create_task(
                _every(60.0, lambda: _daily(summaries, services.sessionmaker, clock), stop),
                name="bot-summaries",
            ),
            asyncio.create_task(
                _every(settings.bots_poll_seconds, poller.tick, stop), name="bot-polling"
            ),
        ]
    try:
        yield
    finally:
        # Let a message in flight finish and be marked, then stop.
        stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*runners, return_exceptions=True), 20)
        await cancel_and_wait(*runners)
        await http.aclose()


DOMAIN = Domain(
    name="bots",
    protected_routers=(bot_router, bots_router),
    public_routers=(inbound_router,),
    lifespan=_lifespan,
)
