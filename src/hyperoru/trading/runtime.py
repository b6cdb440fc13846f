"""The per-app trading objects (``Services.trading``)."""

from __future__ import annotations

from dataclasses import dataclass

from hyperoru.trading.monitor import Monitor
from hyperoru.trading.paper_client import PaperExchange


@dataclass(frozen=True, slots=True)
class TradingRuntime:
    paper: PaperExchange
    monitor: Monitor
