"""Which worker evaluates which pool: a compare-and-set lease on ``signal_pool_runtime``,
like ``runtime.leases`` for traders, so each pool is evaluated by exactly one live worker
and a dead worker's pools are taken over once its leases expire."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.signals.models import SignalPoolRuntime


async def _ensure_rows(session: AsyncSession, pool_ids: Sequence[int]) -> None:
    existing = set(
        await session.scalars(
            select(SignalPoolRuntime.pool_id).where(SignalPoolRuntime.pool_id.in_(pool_ids))
        )
    )
    missing = [pool_id for pool_id in pool_ids if pool_id not in existing]
    if not missing:
        return
    session.add_all(SignalPoolRuntime(pool_id=pool_id, condition={}) for pool_id in missing)
    try:
        await session.commit()
    except IntegrityError:  # another worker created some first: same outcome
        await session.rollback()
        for pool_id in missing:
            await _ensure_rows(session, [pool_id])


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
    await _ensure_rows(session, pool_ids)
    await session.execute(
        update(SignalPoolRuntime)
        .where(
            SignalPoolRuntime.pool_id.in_(pool_ids),
            or_(
                SignalPoolRuntime.lease_owner.is_(None),
                SignalPoolRuntime.lease_owner == owner,
                SignalPoolRuntime.lease_expires_at < now,
            ),
        )
        .values(lease_owner=owner, lease_expires_at=now + lease)
    )
    await session.commit()
    held = await session.scalars(
        select(SignalPoolRuntime)
        .where(SignalPoolRuntime.pool_id.in_(pool_ids), SignalPoolRuntime.lease_owner == owner)
        .execution_options(populate_existing=True)
    )
    return {state.pool_id: state for state in held}


async def release(session: AsyncSession, *, owner: str, pool_ids: Sequence[int]) -> None:
    if not pool_ids:
        return
    await session.execute(
        update(SignalPoolRuntime)
        .where(SignalPoolRuntime.pool_id.in_(pool_ids), SignalPoolRuntime.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    await session.commit()


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
    result = await session.execute(
        update(SignalPoolRuntime)
        .where(
            SignalPoolRuntime.pool_id == pool_id,
            SignalPoolRuntime.lease_owner == owner,
            SignalPoolRuntime.lease_expires_at >= now,
        )
        .values(**values)
    )
    return result.rowcount == 1
