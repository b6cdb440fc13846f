"""The trading domain: the paper exchange's monitor task, its /ws messages and the order
routes. The paper exchange itself is a shared service (``Services.trading``), reading its
market through the app's current services on every call (so a test can swap the market).
Before start-up, ``app.state.trading_clock`` (a function returning an aware UTC time) and
``app.state.trading_monitor_seconds`` (``None`` turns the background task off) may be
set; tests use them to drive the clock and the monitor by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hyperoru.domain import Domain
from hyperoru.stopping import cancel_and_wait
from hyperoru.trading.live.router import kill_router
from hyperoru.trading.router import (
    account_router,
    binance_router,
    hyperliquid_router,
    orders_router,
)
from hyperoru.trading.runtime import TradingRuntime
from hyperoru.trading.ws_messages import register_trading_messages

MONITOR_SECONDS = 2.0
LIVE_MONITOR_SECONDS = 5.0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    trading: TradingRuntime = app.state.services.trading
    register_trading_messages(app)
    interval = getattr(app.state, "trading_monitor_seconds", MONITOR_SECONDS)
    tasks = []
    if interval is not None:
        tasks.append(asyncio.create_task(trading.monitor.run(interval), name="paper-monitor"))
        # Its first tick reconciles every live trader: the start-up reconciliation.
        tasks.append(
            asyncio.create_task(trading.live_monitor.run(LIVE_MONITOR_SECONDS), name="live-monitor")
        )
    try:
        yield
    finally:
        await cancel_and_wait(*tasks)
        await trading.live.aclose()


DOMAIN = Domain(
    name="trading",
    protected_routers=(
        orders_router,
        account_router,
        hyperliquid_router,
        binance_router,
        kill_router,
    ),
    lifespan=_lifespan,
)
