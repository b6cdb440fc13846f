"""The per-app trading objects (``Services.trading``), built in one place for the server
and for the command line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.exchanges.venue import VenueConnector
from hyperoru.realtime.bus import EventBus
from hyperoru.trading.execution import TraderExchanges
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.live.credentials import CredentialSource
from hyperoru.trading.live.monitor import LiveMonitor
from hyperoru.trading.market_feed import MarketFeed
from hyperoru.trading.monitor import Monitor
from hyperoru.trading.paper_client import PaperExchange


@dataclass(frozen=True, slots=True)
class TradingRuntime:
    paper: PaperExchange
    monitor: Monitor
    live: LiveExchange
    live_monitor: LiveMonitor
    # The per-trader choice of paper or live: what everything that executes goes through.
    exchanges: TraderExchanges


def build_trading(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    feed: MarketFeed,
    clock: Callable[[], datetime],
    bus: Callable[[], EventBus | None],
    changed: Callable[[int], Awaitable[None]],
    venues: Callable[[], VenueConnector],
    credentials: CredentialSource,
) -> TradingRuntime:
    paper = PaperExchange(
        sessionmaker=sessionmaker, feed=feed, clock=clock, bus=bus, changed=changed
    )
    live = LiveExchange(
        sessionmaker=sessionmaker,
        feed=feed,
        connector=venues,
        credentials=credentials,
        clock=clock,
        bus=bus,
        changed=changed,
    )
    return TradingRuntime(
        paper=paper,
        monitor=Monitor(paper),
        live=live,
        live_monitor=LiveMonitor(live),
        exchanges=TraderExchanges(sessionmaker, paper=paper, live=live),
    )
