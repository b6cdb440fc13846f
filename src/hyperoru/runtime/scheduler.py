"""Runs every scheduled strategy of the traders this worker holds a lease on: a trader's
primary strategy and each of its scheduled bindings, every one on its own clock.

A trader's due strategies run one after another in one task of its own, with a timeout
per cycle, so one slow or failing trader never delays another (or the price feed, which
has its own task), and one trader never runs two scheduled cycles at once.

Every cycle first takes a place at the process's cycle gate (``max_concurrent_cycles``,
shared with signal and manual cycles); its timeout starts once it has one, so a busy
process delays cycles but never fails them for waiting. Waiting for a program sandbox
slot inside the cycle does not count either (``cycle_clock.not_counted``): other users'
programs can delay a cycle, never fail it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.logging_setup import new_work_id, request_id_var, working_for
from hyperoru.process_identity import worker_identity
from hyperoru.runtime import cycle_clock, leases
from hyperoru.runtime.loop import tick_forever
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.runtime")

CycleRunner = Callable[[int, Trigger], Awaitable[CycleOutcome]]
CycleGate = AbstractAsyncContextManager[Any]
# Told a user's data changed (``db.versions``), so cached reads show a paused trader.
UserChanged = Callable[[int], Awaitable[None]]


async def run_counted(
    sessions: async_sessionmaker[AsyncSession],
    run_cycle: CycleRunner,
    account_id: int,
    trigger: Trigger,
    *,
    limit_seconds: float,
    gate: CycleGate | None = None,
    changed: UserChanged | None = None,
) -> bool:
    """Run one cycle under ``limit_seconds`` (counted from when it passes ``gate``, and
    stopped while it waits for a sandbox slot) and count its outcome towards the trader's
    failure streak, whatever triggered it. Returns True when this cycle paused the
    trader (and then tells ``changed`` about its owner)."""
    # A cycle no request started logs under an id of its own (logging_setup.py).
    with working_for(request_id_var.get() or new_work_id("cycle")):
        async with gate or nullcontext():
            owner = await _run_and_count(
                sessions, run_cycle, account_id, trigger, limit_seconds=limit_seconds
            )
    if owner is not None and changed is not None:
        await changed(owner)
    return owner is not None


async def _run_and_count(
    sessions: async_sessionmaker[AsyncSession],
    run_cycle: CycleRunner,
    account_id: int,
    trigger: Trigger,
    *,
    limit_seconds: float,
) -> int | None:
    try:
        async with cycle_clock.deadline(limit_seconds):
            outcome = await run_cycle(account_id, trigger)
    except TimeoutError:
        outcome = CycleOutcome(ok=False, error=f"cycle timed out after {limit_seconds:g} s")
    except Exception as exc:
        log.exception("trader cycle crashed", extra={"account_id": account_id})
        outcome = CycleOutcome(ok=False, error=f"internal error: {type(exc).__name__}")
    if not outcome.ran:
        return None
    async with sessions() as session:
        paused_owner = await leases.record_outcome(
            session, account_id=account_id, ok=outcome.ok, error=outcome.error
        )
    if paused_owner is not None:
        log.warning(
            "trader paused after repeated failures",
            extra={"event": "trader_paused", "account_id": account_id},
        )
    return paused_owner


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
        gate: CycleGate | None = None,
        changed: UserChanged | None = None,
    ) -> None:
        self._sessions = sessions
        self._gate = gate
        self._changed = changed
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

    async def tick(self, now: datetime | None = None) -> list[Trigger]:
        """Claim the traders with a schedule, start what is due; answers what started."""
        now = now or utcnow()
        return await self.start_due(await self.read(now), now)

    async def read(self, now: datetime) -> list[leases.Schedulable]:
        """The first half of a tick: what may be due, with the leases taken or renewed.
        Only a hint: ``start_due`` checks everything again when it claims a cycle."""
        async with self._sessions() as session:
            schedulable = await leases.schedulable_traders(session)
            wanted = sorted({entry.account_id for entry in schedulable})
            held = await leases.claim(
                session, account_ids=wanted, owner=self.owner, now=now, lease=self._lease
            )
            await leases.release(
                session, owner=self.owner, account_ids=sorted(self._held - set(wanted))
            )
        self._held = held
        return [entry for entry in schedulable if entry.account_id in held]

    async def start_due(
        self, schedulable: list[leases.Schedulable], now: datetime
    ) -> list[Trigger]:
        """The second half of a tick: claim each due cycle (one statement each, which
        re-checks that the trader and the strategy may still run) and start it."""
        started: dict[int, list[Trigger]] = {}
        async with self._sessions() as session:
            for entry in schedulable:
                if entry.account_id in self._running or not entry.looks_due(now):
                    continue
                if await leases.start_due(session, due=entry, owner=self.owner, now=now):
                    trigger = Trigger(kind="scheduled", at=now, binding_id=entry.binding_id)
                    started.setdefault(entry.account_id, []).append(trigger)
        for account_id, triggers in started.items():
            self._start(account_id, triggers)
        return [trigger for triggers in started.values() for trigger in triggers]

    async def drain(self, account_ids: Iterable[int] | None = None) -> None:
        """Wait for the cycles started so far (tests and shutdown), or for those of
        ``account_ids`` only."""
        wanted = None if account_ids is None else set(account_ids)
        while True:
            tasks = [
                task
                for account_id, task in self._running.items()
                if wanted is None or account_id in wanted
            ]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, account_id: int, triggers: list[Trigger]) -> None:
        task = asyncio.create_task(self._cycles(account_id, triggers), name=f"trader-{account_id}")
        self._running[account_id] = task
        task.add_done_callback(lambda _: self._running.pop(account_id, None))

    async def _cycles(self, account_id: int, triggers: list[Trigger]) -> None:
        for trigger in triggers:
            if await run_counted(
                self._sessions,
                self._run_cycle,
                account_id,
                trigger,
                limit_seconds=self._timeout,
                gate=self._gate,
                changed=self._changed,
            ):
                return  # paused: the rest of its due strategies wait for the owner

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
