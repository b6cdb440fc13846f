"""Runs every schedulable trader this worker holds a lease on, each in its own task with
its own timeout, so one slow or failing trader never delays another (or the price feed,
which has its own task)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.runtime import leases
from hyperoru.runtime.identity import worker_identity
from hyperoru.runtime.loop import tick_forever
from hyperoru.runtime.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.runtime")

CycleRunner = Callable[[int, Trigger], Awaitable[CycleOutcome]]


class TraderScheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        run_cycle: CycleRunner,
        *,
        tick_seconds: float = 1.0,
        lease_seconds: float = 30.0,
        cycle_timeout_seconds: float = 120.0,
        owner: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._run_cycle = run_cycle
        self._tick = tick_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._timeout = cycle_timeout_seconds
        self.owner = owner or worker_identity()
        self._held: set[int] = set()
        self._running: dict[int, asyncio.Task[None]] = {}

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    async def run(self) -> None:
        await tick_forever(
            self.tick, interval=lambda: self._tick, stop=self.stop, log=log, worker=self.owner
        )

    async def tick(self) -> None:
        now = utcnow()
        async with self._sessions() as session:
            schedulable = await leases.schedulable_traders(session)
            wanted = {trader.account_id for trader in schedulable}
            held: set[int] = set()
            for trader in schedulable:
                if await leases.claim(
                    session,
                    account_id=trader.account_id,
                    owner=self.owner,
                    now=now,
                    lease=self._lease,
                ):
                    held.add(trader.account_id)
            await leases.release(session, owner=self.owner, account_ids=sorted(self._held - wanted))
            self._held = held
            for trader in schedulable:
                if trader.account_id not in held or trader.account_id in self._running:
                    continue
                if await leases.start_due(
                    session,
                    account_id=trader.account_id,
                    owner=self.owner,
                    now=now,
                    interval=trader.interval,
                ):
                    self._start(trader.account_id, Trigger(kind="scheduled", at=now))

    def _start(self, account_id: int, trigger: Trigger) -> None:
        task = asyncio.create_task(self._cycle(account_id, trigger), name=f"trader-{account_id}")
        self._running[account_id] = task
        task.add_done_callback(lambda _: self._running.pop(account_id, None))

    async def _cycle(self, account_id: int, trigger: Trigger) -> None:
        try:
            outcome = await asyncio.wait_for(self._run_cycle(account_id, trigger), self._timeout)
        except TimeoutError:
            outcome = CycleOutcome(ok=False, error=f"cycle timed out after {self._timeout:g} s")
        except Exception as exc:
            log.exception("trader cycle crashed", extra={"account_id": account_id})
            outcome = CycleOutcome(ok=False, error=f"internal error: {type(exc).__name__}")
        async with self._sessions() as session:
            paused = await leases.record_outcome(
                session, account_id=account_id, ok=outcome.ok, error=outcome.error
            )
        if paused:
            log.warning(
                "trader paused after repeated failures",
                extra={"event": "trader_paused", "account_id": account_id},
            )

    async def stop(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        with suppress(Exception):
            async with self._sessions() as session:
                await leases.release(session, owner=self.owner, account_ids=sorted(self._held))
        self._held = set()
