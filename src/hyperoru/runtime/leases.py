"""Which worker runs which trader. A lease is a compare-and-set on ``trader_runtime``, so
it works the same on SQLite and PostgreSQL and a dead worker's traders are picked up once
its leases expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account, AccountStrategy
from hyperoru.runtime.models import TraderRuntime

PAUSE_AFTER_FAILURES = 3


@dataclass(frozen=True, slots=True)
class Schedulable:
    account_id: int
    interval: timedelta


async def schedulable_traders(session: AsyncSession) -> list[Schedulable]:
    """Live, active traders whose strategy runs on a schedule."""
    rows = await session.execute(
        select(Account.id, AccountStrategy.trigger_interval)
        .join(AccountStrategy, AccountStrategy.account_id == Account.id)
        .where(
            Account.deleted_at.is_(None),
            Account.is_active.is_(True),
            Account.auto_trading_enabled.is_(True),
            Account.status == "active",
            AccountStrategy.enabled.is_(True),
            AccountStrategy.scheduled_trigger_enabled.is_(True),
        )
        .order_by(Account.id)
    )
    return [Schedulable(row[0], timedelta(seconds=row[1])) for row in rows]


async def _ensure_row(session: AsyncSession, account_id: int) -> None:
    if await session.get(TraderRuntime, account_id) is not None:
        return
    session.add(TraderRuntime(account_id=account_id, consecutive_failures=0))
    try:
        await session.commit()
    except IntegrityError:  # another worker created it first: same outcome
        await session.rollback()


async def claim(
    session: AsyncSession, *, account_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take or renew the lease on one trader; False when another live worker holds it."""
    await _ensure_row(session, account_id)
    result = await session.execute(
        update(TraderRuntime)
        .where(
            TraderRuntime.account_id == account_id,
            or_(
                TraderRuntime.lease_owner.is_(None),
                TraderRuntime.lease_owner == owner,
                TraderRuntime.lease_expires_at < now,
            ),
        )
        .values(lease_owner=owner, lease_expires_at=now + lease)
    )
    await session.commit()
    return result.rowcount == 1


async def release(session: AsyncSession, *, owner: str, account_ids: list[int]) -> None:
    if not account_ids:
        return
    await session.execute(
        update(TraderRuntime)
        .where(TraderRuntime.account_id.in_(account_ids), TraderRuntime.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    await session.commit()


async def start_due(
    session: AsyncSession, *, account_id: int, owner: str, now: datetime, interval: timedelta
) -> bool:
    """Mark a cycle as started if it is due and the lease is still ours (one statement, so
    two workers can never both start the same trader's cycle)."""
    result = await session.execute(
        update(TraderRuntime)
        .where(
            TraderRuntime.account_id == account_id,
            TraderRuntime.lease_owner == owner,
            TraderRuntime.lease_expires_at >= now,
            or_(TraderRuntime.next_run_at.is_(None), TraderRuntime.next_run_at <= now),
        )
        .values(next_run_at=now + interval, last_cycle_at=now)
    )
    await session.commit()
    return result.rowcount == 1


async def record_outcome(
    session: AsyncSession, *, account_id: int, ok: bool, error: str | None
) -> bool:
    """Count a finished cycle; after PAUSE_AFTER_FAILURES failures in a row the trader is
    put in ``error`` with a readable reason. Returns True when this call paused it."""
    runtime = await session.get(TraderRuntime, account_id)
    if runtime is None:
        return False
    if runtime.consecutive_failures >= PAUSE_AFTER_FAILURES:
        # Still counting past the limit means the owner resumed the trader: start again.
        runtime.consecutive_failures = 0
    if ok:
        runtime.consecutive_failures = 0
        await session.commit()
        return False
    runtime.consecutive_failures += 1
    paused = runtime.consecutive_failures >= PAUSE_AFTER_FAILURES
    if paused:
        await session.execute(
            update(Account)
            .where(and_(Account.id == account_id, Account.status == "active"))
            .values(
                status="error",
                status_reason=(
                    f"paused after {runtime.consecutive_failures} failed cycles in a row; "
                    f"last error: {error or 'unknown'}"
                )[:500],
            )
        )
    await session.commit()
    return paused
