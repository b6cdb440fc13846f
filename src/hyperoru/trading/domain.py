"""The trading domain: the paper exchange client, its monitor task and the order routes.

Registered after ACCOUNTS and MARKET: it reads ``app.state.market`` (on every call, so
the market source can be swapped) and publishes to ``app.state.bus`` when it exists.
Before start-up, ``app.state.trading_clock`` (a function returning an aware UTC time) and
``app.state.trading_monitor_seconds`` (``None`` turns the background task off) may be
set; tests use them to drive the clock and the monitor by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.timeutils import utcnow
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.monitor import Monitor
from hyperoru.trading.paper_client import PaperExchange
from hyperoru.trading.router import account_router, hyperliquid_router, orders_router
from hyperoru.trading.runtime import TradingRuntime
from hyperoru.trading.ws_messages import register_trading_messages

MONITOR_SECONDS = 2.0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    paper = PaperExchange(
        sessionmaker=state.sessionmaker,
        feed=MarketFeed(lambda: state.market),
        clock=getattr(state, "trading_clock", utcnow),
        bus=lambda: getattr(state, "bus", None),
    )
    monitor = Monitor(paper)
    state.trading = TradingRuntime(paper=paper, monitor=monitor)
    register_trading_messages(app)
    interval = getattr(state, "trading_monitor_seconds", MONITOR_SECONDS)
    task = None
    if interval is not None:
        task = asyncio.create_task(monitor.run(interval), name="paper-monitor")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


DOMAIN = Domain(
    name="trading",
    protected_routers=(orders_router, account_router, hyperliquid_router),
    lifespan=_lifespan,
)
