"""The per-app trading objects (``Services.trading``)."""

from __future__ import annotations

from dataclasses import dataclass

from hyperoru.trading.execution import TraderExchanges
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.live.monitor import LiveMonitor
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
