"""The signal runtime: every tick it evaluates the enabled pools this worker holds a lease
on, logs each firing, and starts one decision cycle per bound trader with the fired
signals as the trigger context.

It runs as its own task next to the trader scheduler (started by the strategies domain
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

from hyperoru.accounts.models import Account, AccountStrategy
from hyperoru.market.runtime import MarketRuntime
from hyperoru.runtime import leases as trader_leases
from hyperoru.runtime.identity import worker_identity
from hyperoru.runtime.loop import tick_forever
from hyperoru.runtime.scheduler import CycleRunner
from hyperoru.runtime.trigger import CycleOutcome, Trigger
from hyperoru.signals import leases
from hyperoru.signals.config import SNAPSHOT_INDICATORS, ConfigError, SignalSpec, parse_config
from hyperoru.signals.evaluator import Frame, Reading, combine, evaluate, should_fire
from hyperoru.signals.frames import FrameSource
from hyperoru.signals.models import (
    SignalDefinition,
    SignalPool,
    SignalPoolRuntime,
    SignalTrigger,
    StrategyBinding,
)
from hyperoru.timeutils import utcnow

log = logging.getLogger("hyperoru.signals")


@dataclass(frozen=True, slots=True)
class Firing:
    pool_id: int
    symbols: tuple[str, ...]
    values: dict[str, Any]
    account_ids: tuple[int, ...]


@dataclass(slots=True)
class _Signal:
    definition_id: int
    name: str
    config: dict[str, Any]
    spec: SignalSpec


@dataclass(slots=True)
class _PoolView:
    pool: SignalPool
    signals: list[_Signal] = field(default_factory=list)


def _threshold_label(config: dict[str, Any]) -> Any:
    return config.get("threshold", config.get("reference", config.get("pattern")))


def _signal_entry(symbol: str, signal: _Signal, reading: Reading) -> dict[str, Any]:
    spec = signal.spec
    return {
        "symbol": symbol,
        "signal_id": signal.definition_id,
        "name": signal.name,
        "indicator": spec.pattern or spec.indicator.label,
        "operator": spec.operator,
        "threshold": _threshold_label(signal.config),
        "interval": spec.interval,
        **reading.as_dict(),
    }


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
    ) -> None:
        self._sessions = sessions
        self._frames = FrameSource(sessions, market)
        self._run_cycle = run_cycle
        self._tick = tick_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._timeout = cycle_timeout_seconds
        self.owner = owner or worker_identity()
        self._held: set[int] = set()
        self._cycles: set[asyncio.Task[None]] = set()

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
            self._held = held
            ids = {i for p in pools if p.id in held for i in p.signal_ids}
            definitions = {
                d.id: d
                for d in await session.scalars(
                    select(SignalDefinition).where(
                        SignalDefinition.id.in_(ids), SignalDefinition.enabled.is_(True)
                    )
                )
            }
        views = []
        for pool in pools:
            if pool.id not in held:
                continue
            view = _PoolView(pool)
            for signal_id in pool.signal_ids:
                definition = definitions.get(signal_id)
                if definition is None or definition.user_id != pool.user_id:
                    continue
                try:
                    spec = parse_config(definition.type, definition.config)
                except ConfigError:  # stored before a grammar change: skip, never guess
                    continue
                view.signals.append(
                    _Signal(definition.id, definition.name, definition.config, spec)
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
        async with self._sessions() as session:
            state = await session.get(SignalPoolRuntime, pool.id)
            if state is None:
                return None
            condition = dict(state.condition or {})
            fired_symbols: list[str] = []
            entries: list[dict[str, Any]] = []
            for symbol in pool.symbols:
                readings = []
                for signal in view.signals:
                    frame = frames.get((symbol, signal.spec.interval))
                    if frame is None:
                        break
                    readings.append((signal, evaluate(signal.spec, frame)))
                else:
                    is_true = combine(pool.logic, [r.fired for _, r in readings])
                    if should_fire(
                        was_true=condition.get(symbol),
                        is_true=is_true,
                        last_fired_at=state.last_fired_at if not fired_symbols else None,
                        cooldown=timedelta(seconds=pool.cooldown_seconds),
                        now=now,
                    ):
                        fired_symbols.append(symbol)
                        entries.extend(_signal_entry(symbol, s, r) for s, r in readings if r.fired)
                    condition[symbol] = is_true
            fired = bool(fired_symbols)
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
            account_ids = await _bound_traders(session, pool)
            session.add(
                SignalTrigger(
                    pool_id=pool.id,
                    fired_at=now,
                    symbols=fired_symbols,
                    values=values,
                    account_ids=account_ids,
                )
            )
            await session.commit()
        log.info(
            "signal pool fired",
            extra={"event": "signal_fired", "pool_id": pool.id, "symbols": fired_symbols},
        )
        return Firing(pool.id, tuple(fired_symbols), values, tuple(account_ids))

    # -- starting the traders -------------------------------------------------------------

    def _start_cycles(self, firing: Firing, now: datetime) -> None:
        trigger = Trigger(kind="signal", at=now, pool_id=firing.pool_id, values=firing.values)
        for account_id in firing.account_ids:
            task = asyncio.create_task(
                self._cycle(account_id, trigger), name=f"signal-{firing.pool_id}-{account_id}"
            )
            self._cycles.add(task)
            task.add_done_callback(self._cycles.discard)

    async def _cycle(self, account_id: int, trigger: Trigger) -> None:
        # Counted like a scheduled cycle: failures pause the trader the same way.
        try:
            outcome = await asyncio.wait_for(self._run_cycle(account_id, trigger), self._timeout)
        except TimeoutError:
            outcome = CycleOutcome(ok=False, error=f"cycle timed out after {self._timeout:g} s")
        except Exception as exc:
            log.exception("signal cycle crashed", extra={"account_id": account_id})
            outcome = CycleOutcome(ok=False, error=f"internal error: {type(exc).__name__}")
        async with self._sessions() as session:
            await trader_leases.record_outcome(
                session, account_id=account_id, ok=outcome.ok, error=outcome.error
            )


async def _bound_traders(session: AsyncSession, pool: SignalPool) -> list[int]:
    """The pool owner's running traders bound to it, each once: through an active binding
    or through the trader's own strategy (its primary binding)."""
    bound: set[int] = set()
    for binding in await session.scalars(
        select(StrategyBinding).where(
            StrategyBinding.user_id == pool.user_id, StrategyBinding.is_active.is_(True)
        )
    ):
        if pool.id in (binding.signal_pool_ids or []):
            bound.add(binding.account_id)
    for strategy in await session.scalars(
        select(AccountStrategy)
        .join(Account, Account.id == AccountStrategy.account_id)
        .where(Account.user_id == pool.user_id, AccountStrategy.enabled.is_(True))
    ):
        if pool.id in (strategy.signal_pool_ids or []):
            bound.add(strategy.account_id)
    if not bound:
        return []
    running = await session.scalars(
        select(Account.id).where(
            Account.id.in_(bound),
            Account.user_id == pool.user_id,
            Account.deleted_at.is_(None),
            Account.is_active.is_(True),
            Account.auto_trading_enabled.is_(True),
            Account.status == "active",
        )
    )
    return sorted(running)
