"""The live traders' background work, one tick at a time: reconciliation (at the first
tick after start-up, then on a schedule), the daily-loss check, and the venue's dead-man
switch armed while a trader runs, re-armed before it expires and disarmed when the trader
stops. The trading domain's task calls ``tick``; tests call it with the clock moved.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select

from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError
from hyperoru.exchanges.venue import VenueError
from hyperoru.trading.live.client import LiveExchange
from hyperoru.trading.live.reconcile import reconcile

log = logging.getLogger("hyperoru.trading.live.monitor")

# The venue cancels every open order this long after the last arming (Hyperliquid wants
# at least 5 s; its daily trigger budget is why re-arming is not every tick).
DEAD_MAN_SECONDS = 120
REARM_AFTER = timedelta(seconds=40)
RECONCILE_EVERY = timedelta(minutes=5)
# Between reconciliations, the venue's fills and account reading (positions, balance,
# the asset curve, the daily-loss check) are refreshed this often.
REFRESH_EVERY = timedelta(seconds=30)


def _runs() -> tuple[ColumnElement[bool], ...]:
    """The runtime's rule for a trader that runs (``runtime.leases.may_run``, which this
    package cannot import: the runtime depends on trading)."""
    return (
        Account.is_active.is_(True),
        Account.auto_trading_enabled.is_(True),
        Account.status == "active",
    )


class LiveMonitor:
    def __init__(
        self,
        live: LiveExchange,
        *,
        dead_man_seconds: int = DEAD_MAN_SECONDS,
        rearm_after: timedelta = REARM_AFTER,
        reconcile_every: timedelta = RECONCILE_EVERY,
        refresh_every: timedelta = REFRESH_EVERY,
    ) -> None:
        self._refresh_every = refresh_every
        self._refreshed: dict[int, datetime] = {}
        self._live = live
        self._dead_man_seconds = dead_man_seconds
        self._rearm_after = rearm_after
        self._reconcile_every = reconcile_every
        self.armed: dict[int, datetime] = {}  # trader → when its dead-man was last armed
        self._reconciled: dict[int, datetime] = {}

    async def _live_traders(self) -> dict[int, bool]:
        """Every live trader → may it run now."""
        async with self._live.sessionmaker() as session:
            rows = await session.execute(
                select(Account.id, and_(*_runs())).where(
                    Account.execution_mode == "live", Account.deleted_at.is_(None)
                )
            )
            return {account_id: bool(runs) for account_id, runs in rows}

    async def tick(self) -> None:
        traders = await self._live_traders()
        for account_id, runs in sorted(traders.items()):
            try:
                await self._visit(account_id, runs)
            except (ApiError, VenueError) as exc:
                log.warning(
                    "live trader visit failed",
                    extra={"account_id": account_id, "error": str(exc)},
                )
            except Exception:
                log.exception("live trader visit crashed", extra={"account_id": account_id})
        for account_id in sorted(set(self.armed) - set(traders)):
            # Deleted or switched to paper since it was armed.
            await self._disarm(account_id)

    async def _visit(self, account_id: int, runs: bool) -> None:
        now = self._live.now()
        last = self._reconciled.get(account_id)
        refreshed = self._refreshed.get(account_id)
        # Under the trader's lock: an order of this process being sent is not a question
        # for reconciliation, and its fills are ingested by the order, not reported missed.
        async with self._live.hold(account_id):
            if last is None or now - last >= self._reconcile_every:
                await reconcile(self._live, account_id)
                self._reconciled[account_id] = self._refreshed[account_id] = now
            elif refreshed is None or now - refreshed >= self._refresh_every:
                user_id = await self._live.owner_of(account_id)
                await self._live.sync(account_id, user_id=user_id)
                self._refreshed[account_id] = now
        if await self._live.enforce_daily_loss(account_id):
            runs = False
        if runs:
            armed = self.armed.get(account_id)
            if armed is None or now - armed >= self._rearm_after:
                adapter = await self._live.adapter(account_id)
                await adapter.arm_dead_man(seconds=self._dead_man_seconds)
                self.armed[account_id] = now
        elif account_id in self.armed:
            await self._disarm(account_id)

    async def _disarm(self, account_id: int) -> None:
        try:
            adapter = await self._live.adapter(account_id)
            await adapter.disarm_dead_man()
        except (ApiError, VenueError) as exc:
            # Left armed, the venue cancels the orders when it expires: the safe side.
            log.warning(
                "dead-man disarm failed", extra={"account_id": account_id, "error": str(exc)}
            )
        self.armed.pop(account_id, None)

    async def run(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("live monitor tick failed")
            await asyncio.sleep(interval_seconds)
