"""The background task that applies the market to every paper trader.

Each tick visits the traders with positions, resting orders or triggers: catch-up after
downtime, hourly funding, resting fills, triggers, liquidation (``PaperExchange.update``).
Once a minute it visits every trader with a ledger and records an asset-curve point. A
trader whose market data is stale is skipped for that tick, never filled on old prices.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from hyperoru.errors import ApiError
from hyperoru.trading.clock import floor_minute
from hyperoru.trading.paper_client import PaperExchange

log = logging.getLogger("hyperoru.trading.monitor")


class Monitor:
    def __init__(self, paper: PaperExchange) -> None:
        self._paper = paper
        self._last_minute: datetime | None = None

    async def tick(self) -> None:
        minute = floor_minute(self._paper.now())
        snapshot_due = minute != self._last_minute
        for account_id in await self._paper.accounts_to_visit(everyone=snapshot_due):
            try:
                await self._paper.update(account_id, snapshot_at=minute if snapshot_due else None)
            except ApiError as exc:
                log.debug(
                    "paper update skipped",
                    extra={"account_id": account_id, "code": exc.code},
                )
            except Exception:
                # One trader's bad state must not stop the others' stops and liquidations.
                log.exception("paper update failed", extra={"account_id": account_id})
        self._last_minute = minute

    async def run(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("paper monitor tick failed")
            await asyncio.sleep(interval_seconds)
