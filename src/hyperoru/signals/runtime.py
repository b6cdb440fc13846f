"""The signal runtime: every tick it evaluates the enabled pools this worker holds a lease
on, logs each firing, and starts one decision cycle per bound trader with the fired
signals as the trigger context, running the strategy of the binding that listens to the
pool (or the trader's primary strategy).

A tick reads the enabled pools, their leases and evaluation state, and their definitions
in a fixed number of statements whatever the number of pools, and writes only the pools
whose condition changed or that fired.

It runs as its own task next to the trader scheduler (started by the decision-cycle flow
when the runtime is embedded, and by ``hyperoru worker``), reads prices from the price
cache without waiting on the venue, and starts cycles as tasks of their own, so neither
the price feed nor a slow model is ever waited on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts.models import Account
from hyperoru.factors.custom import custom_expressions_of
from hyperoru.market.runtime import MarketRuntime
from hyperoru.notifications import outbox
from hyperoru.process_identity import worker_identity
from hyperoru.runtime import leases as trader_leases
from hyperoru.runtime.loop import tick_forever
from hyperoru.runtime.scheduler import (
    Counted,
    CycleGate,
    CycleRunner,
    UserChanged,
    run_counted,
)
from hyperoru.signals import leases
from hyperoru.signals.config import (
    SNAPSHOT_INDICATORS,
    ConfigError,
    custom_factor_name,
    parse_config,
)
from hyperoru.signals.evaluator import Frame, PoolRules, PoolSignal, step_pool
from hyperoru.signals.frames import FrameSource
from hyperoru.signals.models import SignalDefinition, SignalPool, SignalTrigger
from hyperoru.strategies.models import PRIMARY, TraderStrategy
from hyperoru.strategies.trigger import Trigger
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.signals")


@dataclass(frozen=True, slots=True)
class BoundRun:
    """One trader a firing starts, and which of its strategies runs: a binding, or its
    primary strategy (``binding_id`` None)."""

    account_id: int
    binding_id: int | None


@dataclass(frozen=True, slots=True)
class Firing:
    pool_id: int
    symbols: tuple[str, ...]
    values: dict[str, Any]
    runs: tuple[BoundRun, ...]

    @property
    def account_ids(self) -> tuple[int, ...]:
        return tuple(run.account_id for run in self.runs)


@dataclass(slots=True)
class _PoolView:
    pool: SignalPool
    # The evaluation state as this tick read it: per-symbol condition, last firing.
    condition: dict[str, bool]
    last_fired_at: datetime | None
    signals: list[PoolSignal] = field(default_factory=list)


class SignalRuntime:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        market: Callable[[], MarketRuntime],
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
        self._frames = FrameSource(sessions, market)
        self._run_cycle = run_cycle
        self._tick = tick_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._timeout = cycle_timeout_seconds
        self.owner = owner or worker_identity()
        self._held: set[int] = set()
        self._cycles: set[asyncio.Task[Counted]] = set()

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    async def run(self) -> None:
        await tick_forever(
            self.tick, interval=lambda: self._tick, stop=self.stop, log=log, worker=self.owner
        )

    async def tick(self, now: datetime | None = None) -> list[Firing]:
        """One evaluation of every pool this worker holds; answers the firings."""
        now = now or utcnow()
        views = await self._claimed_pools(now)
        frames = await self._frames_for(views, now)
        firings: list[Firing] = []
        for view in views:
            firing = await self._evaluate_pool(view, frames, now)
            if firing is not None:
                firings.append(firing)
                self._start_cycles(firing, now)
        return firings

    async def drain(self) -> None:
        """Wait for the decision cycles started so far (tests and shutdown)."""
        while self._cycles:
            await asyncio.gather(*list(self._cycles), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._cycles):
            task.cancel()
        await self.drain()
        with suppress(Exception):
            async with self._sessions() as session:
                await leases.release(session, owner=self.owner, pool_ids=sorted(self._held))
        self._held = set()

    # -- one tick ---------------------------------------------------------------------------

    async def _claimed_pools(self, now: datetime) -> list[_PoolView]:
        async with self._sessions() as session:
            pools = list(
                await session.scalars(
                    select(SignalPool).where(SignalPool.enabled.is_(True)).order_by(SignalPool.id)
                )
            )
            wanted = [p.id for p in pools]
            held = await leases.claim(
                session, pool_ids=wanted, owner=self.owner, now=now, lease=self._lease
            )
            await leases.release(
                session, owner=self.owner, pool_ids=sorted(self._held - set(wanted))
            )
            self._held = set(held)
            ids = {i for p in pools if p.id in held for i in p.signal_ids}
            definitions = {
                d.id: d
                for d in await session.scalars(
                    select(SignalDefinition).where(
                        SignalDefinition.id.in_(ids), SignalDefinition.enabled.is_(True)
                    )
                )
            }
            # A factor:<name> signal that is no built-in reads its owner's own custom
            # factors: one statement for all owners, none while no signal needs it.
            owners = {d.user_id for d in definitions.values() if custom_factor_name(d.config)}
            custom = await custom_expressions_of(session, owners) if owners else {}
        views = []
        for pool in pools:
            state = held.get(pool.id)
            if state is None:
                continue
            view = _PoolView(pool, dict(state.condition or {}), state.last_fired_at)
            for signal_id in pool.signal_ids:
                definition = definitions.get(signal_id)
                if definition is None or definition.user_id != pool.user_id:
                    continue
                try:
                    spec = parse_config(
                        definition.type, definition.config, custom.get(pool.user_id)
                    )
                except ConfigError:  # stored before a grammar change, or its factor deleted
                    continue
                view.signals.append(
                    PoolSignal(definition.id, definition.name, definition.config, spec)
                )
            views.append(view)
        return views

    async def _frames_for(
        self, views: list[_PoolView], now: datetime
    ) -> dict[tuple[str, str], Frame | None]:
        """One frame per symbol and interval for the whole tick, so every indicator line is
        computed once however many signals and pools read it."""
        bars: dict[tuple[str, str], int] = {}
        snapshots: dict[tuple[str, str], set[str]] = {}
        for view in views:
            for symbol in view.pool.symbols:
                for signal in view.signals:
                    key = (symbol, signal.spec.interval)
                    bars[key] = max(bars.get(key, 0), signal.spec.bars_needed())
                    if signal.spec.indicator.name in SNAPSHOT_INDICATORS:
                        snapshots.setdefault(key, set()).add(signal.spec.indicator.name)
        frames: dict[tuple[str, str], Frame | None] = {}
        for (symbol, interval), count in bars.items():
            frames[(symbol, interval)] = await self._frames.frame(
                symbol,
                interval,
                bars=count,
                snapshots=snapshots.get((symbol, interval), set()),
                now=now,
            )
        return frames

    async def _evaluate_pool(
        self, view: _PoolView, frames: dict[tuple[str, str], Frame | None], now: datetime
    ) -> Firing | None:
        pool = view.pool
        rules = PoolRules(
            symbols=tuple(pool.symbols),
            logic=pool.logic,
            cooldown=timedelta(seconds=pool.cooldown_seconds),
            signals=tuple(view.signals),
        )
        outcome = step_pool(
            rules,
            lambda symbol, interval: frames.get((symbol, interval)),
            condition=view.condition,
            last_fired_at=view.last_fired_at,
            now=now,
        )
        condition, fired_symbols = outcome.condition, list(outcome.fired_symbols)
        entries = list(outcome.entries)
        fired = bool(fired_symbols)
        if not fired and condition == view.condition:
            return None  # the common tick: nothing changed, nothing to write
        async with self._sessions() as session:
            if not await leases.record_evaluation(
                session,
                pool_id=pool.id,
                owner=self.owner,
                now=now,
                condition=condition,
                fired=fired,
            ):
                await session.rollback()
                return None
            if not fired:
                await session.commit()
                return None
            values = {
                "pool_id": pool.id,
                "pool_name": pool.name,
                "logic": pool.logic,
                "symbols": fired_symbols,
                "signals": entries,
            }
            runs = await _bound_runs(session, pool)
            session.add(
                SignalTrigger(
                    pool_id=pool.id,
                    fired_at=now,
                    symbols=fired_symbols,
                    values=values,
                    account_ids=[run.account_id for run in runs],
                )
            )
            await outbox.signal_fired(
                session,
                user_id=pool.user_id,
                pool_name=pool.name,
                symbols=fired_symbols,
                entries=entries,
                trader_ids=[run.account_id for run in runs],
            )
            await session.commit()
        log.info(
            "signal pool fired",
            extra={"event": "signal_fired", "pool_id": pool.id, "symbols": fired_symbols},
        )
        return Firing(pool.id, tuple(fired_symbols), values, tuple(runs))

    # -- starting the traders -------------------------------------------------------------

    def _start_cycles(self, firing: Firing, now: datetime) -> None:
        for run in firing.runs:
            trigger = Trigger(
                kind="signal",
                at=now,
                pool_id=firing.pool_id,
                values=firing.values,
                binding_id=run.binding_id,
            )
            task = asyncio.create_task(
                # Counted like a scheduled cycle: failures pause the trader the same way.
                run_counted(
                    self._sessions,
                    self._run_cycle,
                    run.account_id,
                    trigger,
                    limit_seconds=self._timeout,
                    gate=self._gate,
                    changed=self._changed,
                ),
                name=f"signal-{firing.pool_id}-{run.account_id}",
            )
            self._cycles.add(task)
            task.add_done_callback(self._cycles.discard)


async def _bound_runs(session: AsyncSession, pool: SignalPool) -> list[BoundRun]:
    """The pool owner's running traders listening to it, each started once: through its
    active binding on the pool (the oldest when several are), otherwise through its
    primary strategy. One query over the trader strategies of both kinds."""
    chosen: dict[int, int | None] = {}
    rows = await session.execute(
        select(
            TraderStrategy.account_id,
            TraderStrategy.id,
            TraderStrategy.kind,
            TraderStrategy.signal_pool_ids,
        )
        .join(Account, Account.id == TraderStrategy.account_id)
        .where(
            TraderStrategy.user_id == pool.user_id,
            TraderStrategy.is_active.is_(True),
            Account.user_id == pool.user_id,
            *trader_leases.may_run(),
        )
        # Bindings before the primary strategy, the oldest binding first.
        .order_by(TraderStrategy.kind == PRIMARY, TraderStrategy.id)
    )
    for account_id, strategy_id, kind, pool_ids in rows:
        if pool.id in (pool_ids or []):
            chosen.setdefault(account_id, None if kind == PRIMARY else strategy_id)
    return [BoundRun(account_id, chosen[account_id]) for account_id in sorted(chosen)]
