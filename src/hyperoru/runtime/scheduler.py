"""Runs every scheduled strategy of the traders this worker holds a lease on: a trader's
primary strategy and each of its scheduled bindings, every one on its own clock.

A trader's due strategies run one after another in one task of its own, with a timeout
per cycle, so one slow or failing trader never delays another (or the price feed, which
has its own task), and one trader never runs two scheduled cycles at once.

Every cycle first takes a place at the process's cycle gate (``max_concurrent_cycles``,
shared with signal and manual cycles); its timeout starts once it has one, so a busy
process delays cycles but never fails them for waiting. Waiting for a program sandbox
slot inside the cycle does not count either (``cycle_clock.not_counted``): other users'
programs can delay a cycle, never fail it.

A cycle that is cut short is run again rather than waiting out its interval: when a
worker dies in the middle of one, its marker (``leases.start_due``) tells the worker that
takes the trader over; when the database or Redis goes away under one, it is not counted
as the trader's failure and its strategy is due again ``RUN_AGAIN_AFTER`` after it began.
No two workers ever run a trader's cycles at once: a worker that lost a trader, or could
not renew its leases for ``FENCE_FRACTION`` of their length, stops the cycles it was
running, and a cycle places its orders only while its worker still holds the trader
(``strategies.cycle_guard``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.errors import unreachable_service
from hyperoru.logging_setup import new_work_id, request_id_var, working_for
from hyperoru.process_identity import worker_identity
from hyperoru.runtime import cycle_clock, leases
from hyperoru.runtime.loop import tick_forever
from hyperoru.strategies import cycle_guard
from hyperoru.strategies.trigger import CycleOutcome, Trigger
from hyperoru.timeutils import isoformat_z, utcnow

log = logging.getLogger("hyperoru.runtime")

# A strategy whose cycle an outage cut short is due again this long after that cycle began
# (or at its usual time, if that comes first): soon, without hammering a database that is
# coming back.
RUN_AGAIN_AFTER = timedelta(seconds=5)
# A worker that has not renewed its leases for this share of their length stops its
# cycles, well before another worker may take its traders over.
FENCE_FRACTION = 2 / 3

CycleRunner = Callable[[int, Trigger], Awaitable[CycleOutcome]]
CycleGate = AbstractAsyncContextManager[Any]
# Told a user's data changed (``db.versions``), so cached reads show a paused trader.
UserChanged = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Counted:
    """How a counted cycle ended, for the caller: it paused the trader, or an outage cut
    it short (then it counted neither as a success nor as a failure)."""

    paused_owner: int | None = None  # the user whose trader this cycle paused
    cut_short: bool = False

    @property
    def paused(self) -> bool:
        return self.paused_owner is not None


async def run_counted(
    sessions: async_sessionmaker[AsyncSession],
    run_cycle: CycleRunner,
    account_id: int,
    trigger: Trigger,
    *,
    limit_seconds: float,
    gate: CycleGate | None = None,
    changed: UserChanged | None = None,
) -> Counted:
    """Run one cycle under ``limit_seconds`` (counted from when it passes ``gate``, and
    stopped while it waits for a sandbox slot) and count its outcome towards the trader's
    failure streak, whatever triggered it. When this cycle paused the trader, tells
    ``changed`` about its owner."""
    # A cycle no request started logs under an id of its own (logging_setup.py).
    with working_for(request_id_var.get() or new_work_id("cycle")):
        async with gate or nullcontext():
            counted = await _run_and_count(
                sessions, run_cycle, account_id, trigger, limit_seconds=limit_seconds
            )
    if counted.paused_owner is not None and changed is not None:
        await changed(counted.paused_owner)
    return counted


async def _run_and_count(
    sessions: async_sessionmaker[AsyncSession],
    run_cycle: CycleRunner,
    account_id: int,
    trigger: Trigger,
    *,
    limit_seconds: float,
) -> Counted:
    try:
        async with cycle_clock.deadline(limit_seconds):
            outcome = await run_cycle(account_id, trigger)
    except TimeoutError:
        outcome = CycleOutcome(ok=False, error=f"cycle timed out after {limit_seconds:g} s")
    except Exception as exc:
        service = unreachable_service(exc)
        if service is not None:  # the platform's outage, not the trader's failure
            log.warning(
                "trader cycle cut short: %s unreachable",
                service,
                extra={
                    "event": "cycle_cut_short",
                    "account_id": account_id,
                    "service": service,
                    "trigger_at": isoformat_z(trigger.at),
                },
            )
            return Counted(cut_short=True)
        log.exception("trader cycle crashed", extra={"account_id": account_id})
        outcome = CycleOutcome(ok=False, error=f"internal error: {type(exc).__name__}")
    if not outcome.ran:
        return Counted()
    try:
        async with sessions() as session:
            paused_owner = await leases.record_outcome(
                session, account_id=account_id, ok=outcome.ok, error=outcome.error
            )
    except Exception as exc:
        if unreachable_service(exc) is None:
            raise
        # The cycle itself ran (and stored its record): only its count is lost.
        log.warning(
            "could not count a cycle's outcome: the database is unreachable",
            extra={"event": "cycle_not_counted", "account_id": account_id},
        )
        return Counted()
    if paused_owner is not None:
        log.warning(
            "trader paused after repeated failures",
            extra={"event": "trader_paused", "account_id": account_id},
        )
    return Counted(paused_owner=paused_owner)


def _log_time(at: datetime | None) -> str | None:
    """A time as the cycle logs write ``trigger_at``; null for a lease with no start."""
    return None if at is None else isoformat_z(at)


@dataclass(frozen=True, slots=True)
class _Started:
    """A scheduled cycle this worker started: what ends it must name the same start."""

    trigger: Trigger
    due: leases.Schedulable


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
        self._renewed_at: datetime | None = None  # the tick's time of the last renewal

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
        try:
            schedulable = await self.read(now)
        except Exception:
            self._fence(now)
            raise
        return await self.start_due(schedulable, now)

    def _fence(self, now: datetime) -> None:
        """The leases could not be renewed: once that has lasted ``FENCE_FRACTION`` of a
        lease, stop every cycle, before another worker may take the traders over."""
        if self._renewed_at is None or not self._running:
            return
        if now - self._renewed_at < self._lease * FENCE_FRACTION:
            return
        log.warning(
            "leases not renewed for %s: stopping this worker's cycles",
            now - self._renewed_at,
            extra={"event": "cycles_fenced", "worker": self.owner},
        )
        self._stop_cycles(set(self._running))
        self._held = set()

    def _stop_cycles(self, account_ids: set[int]) -> None:
        for account_id in account_ids:
            task = self._running.get(account_id)
            if task is not None:
                task.cancel()

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
        self._renewed_at = now
        lost = set(self._running) - held
        if lost:  # taken over while this worker could not renew (a stalled loop, a blip)
            log.warning(
                "lost %d traders to another worker: stopping their cycles",
                len(lost),
                extra={"event": "cycles_fenced", "worker": self.owner},
            )
            self._stop_cycles(lost)
        return [entry for entry in schedulable if entry.account_id in held]

    async def start_due(
        self, schedulable: list[leases.Schedulable], now: datetime
    ) -> list[Trigger]:
        """The second half of a tick: claim each due cycle (one statement each, which
        re-checks that the trader and the strategy may still run) and start it."""
        started: dict[int, list[_Started]] = {}
        async with self._sessions() as session:
            for entry in schedulable:
                # Not running the trader here, so a marker on its strategy is a cycle that
                # was cut short (``Schedulable.cut_short``): due now.
                if entry.account_id in self._running or not entry.looks_due(now):
                    continue
                if await leases.start_due(session, due=entry, owner=self.owner, now=now):
                    if entry.cut_short:
                        log.info(
                            "running again a cycle cut short",
                            extra={
                                "event": "cycle_run_again",
                                "account_id": entry.account_id,
                                "previous_worker": entry.running_owner,
                                # The cut-short cycle's ``trigger_at`` (it started then),
                                # so a log reader can pair it with this run.
                                "cut_short_at": _log_time(entry.running_since),
                                "trigger_at": isoformat_z(now),
                            },
                        )
                    trigger = Trigger(kind="scheduled", at=now, binding_id=entry.binding_id)
                    started.setdefault(entry.account_id, []).append(_Started(trigger, entry))
        for account_id, cycles in started.items():
            self._start(account_id, cycles)
        return [cycle.trigger for cycles in started.values() for cycle in cycles]

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

    def _start(self, account_id: int, cycles: list[_Started]) -> None:
        task = asyncio.create_task(self._cycles(account_id, cycles), name=f"trader-{account_id}")
        self._running[account_id] = task
        task.add_done_callback(lambda _: self._running.pop(account_id, None))

    async def _cycles(self, account_id: int, cycles: list[_Started]) -> None:
        async def still_ours(session: AsyncSession) -> bool:
            return await leases.holds(session, account_id=account_id, owner=self.owner)

        with cycle_guard.placing_only_while(still_ours):
            for cycle in cycles:
                counted = await run_counted(
                    self._sessions,
                    self._run_cycle,
                    account_id,
                    cycle.trigger,
                    limit_seconds=self._timeout,
                    gate=self._gate,
                    changed=self._changed,
                )
                await self._finish(cycle, cut_short=counted.cut_short)
                if counted.paused:
                    # The rest of its due strategies wait for the owner (their markers
                    # stay: they run as soon as the trader is resumed).
                    return

    async def _finish(self, cycle: _Started, *, cut_short: bool) -> None:
        started_at = cycle.trigger.at
        again = started_at + min(cycle.due.interval, RUN_AGAIN_AFTER) if cut_short else None
        try:
            async with self._sessions() as session:
                await leases.finish(
                    session,
                    due=cycle.due,
                    owner=self.owner,
                    started_at=started_at,
                    run_again_at=again,
                )
        except Exception as exc:
            if unreachable_service(exc) is None:
                raise
            # The marker stays: the next tick that reaches the database runs it again.
            log.warning(
                "could not mark a cycle as ended: the database is unreachable",
                extra={"event": "cycle_end_not_written", "account_id": cycle.due.account_id},
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
