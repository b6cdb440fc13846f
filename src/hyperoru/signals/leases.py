"""Which worker evaluates which pool: a compare-and-set lease on ``signal_pool_runtime``,
like ``runtime.leases`` for traders, so each pool is evaluated by exactly one live worker
and a dead worker's pools are taken over once its leases expire."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.db.dml import rows_changed
from hyperoru.runtime.lease_rows import LeaseRows
from hyperoru.signals.models import SignalPoolRuntime

POOLS: LeaseRows[SignalPoolRuntime] = LeaseRows(
    SignalPoolRuntime,
    SignalPoolRuntime.pool_id,
    lambda pool_id: SignalPoolRuntime(pool_id=pool_id, condition={}),
)


async def claim(
    session: AsyncSession,
    *,
    pool_ids: Sequence[int],
    owner: str,
    now: datetime,
    lease: timedelta,
) -> dict[int, SignalPoolRuntime]:
    """Take or renew the leases on ``pool_ids``; answers the ones this worker now holds,
    with their evaluation state (read in the same query, so a tick reads each pool's state
    once, not per pool)."""
    if not pool_ids:
        return {}
    await POOLS.take(session, ids=pool_ids, owner=owner, now=now, lease=lease)
    held = await session.scalars(
        select(SignalPoolRuntime)
        .where(POOLS.held_by(owner, pool_ids))
        .execution_options(populate_existing=True)
    )
    return {state.pool_id: state for state in held}


async def release(session: AsyncSession, *, owner: str, pool_ids: Sequence[int]) -> None:
    await POOLS.release(session, owner=owner, ids=pool_ids)


async def record_evaluation(
    session: AsyncSession,
    *,
    pool_id: int,
    owner: str,
    now: datetime,
    condition: dict[str, bool],
    fired: bool,
) -> bool:
    """Store the new per-symbol condition (and the firing time) only while the lease is
    still ours, in one statement; False means another worker took the pool over and this
    evaluation must not fire. Flushes; the caller commits with the trigger log row."""
    values: dict[str, object] = {"condition": condition}
    if fired:
        values["last_fired_at"] = now
    changed = await rows_changed(
        session,
        update(SignalPoolRuntime)
        .where(SignalPoolRuntime.pool_id == pool_id, POOLS.still_held(owner, now))
        .values(**values),
    )
    return changed == 1
