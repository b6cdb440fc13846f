"""Which worker runs which trader. A lease is a compare-and-set on ``trader_runtime``, so
it works the same on SQLite and PostgreSQL and a dead worker's traders are picked up once
its leases expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account, AccountStrategy
from hyperoru.runtime.lease_rows import LeaseRows
from hyperoru.runtime.models import BindingRuntime, TraderRuntime
from hyperoru.signals.models import StrategyBinding

PAUSE_AFTER_FAILURES = 3


@dataclass(frozen=True, slots=True)
class Schedulable:
    """One strategy of a trader that runs on a clock: the trader's primary strategy
    (``binding_id`` None) or one of its bindings, each on its own interval."""

    account_id: int
    interval: timedelta
    binding_id: int | None = None
    next_run_at: datetime | None = None

    def looks_due(self, now: datetime) -> bool:
        """A cheap pre-check from the tick's read; ``start_due`` decides for real."""
        return self.next_run_at is None or self.next_run_at <= now


def may_run() -> tuple[ColumnElement[bool], ...]:
    """A trader that may run at all: live, active, auto-trading and not paused."""
    return (
        Account.deleted_at.is_(None),
        Account.is_active.is_(True),
        Account.auto_trading_enabled.is_(True),
        Account.status == "active",
    )


async def schedulable_traders(session: AsyncSession) -> list[Schedulable]:
    """Every scheduled strategy of every running trader: primary strategies and active
    bindings, in one statement each, ordered by trader (primary first)."""
    primary = await session.execute(
        select(Account.id, AccountStrategy.trigger_interval, TraderRuntime.next_run_at)
        .join(AccountStrategy, AccountStrategy.account_id == Account.id)
        .outerjoin(TraderRuntime, TraderRuntime.account_id == Account.id)
        .where(
            *may_run(),
            AccountStrategy.enabled.is_(True),
            AccountStrategy.scheduled_trigger_enabled.is_(True),
        )
    )
    bound = await session.execute(
        select(
            Account.id,
            StrategyBinding.trigger_interval,
            StrategyBinding.id,
            BindingRuntime.next_run_at,
        )
        .join(StrategyBinding, StrategyBinding.account_id == Account.id)
        .outerjoin(BindingRuntime, BindingRuntime.binding_id == StrategyBinding.id)
        .where(
            *may_run(),
            # A binding is its owner's: rows written behind the API's back never run.
            StrategyBinding.user_id == Account.user_id,
            StrategyBinding.is_active.is_(True),
            StrategyBinding.scheduled_trigger_enabled.is_(True),
        )
    )
    due = [Schedulable(row[0], timedelta(seconds=row[1]), None, row[2]) for row in primary]
    due += [Schedulable(row[0], timedelta(seconds=row[1]), row[2], row[3]) for row in bound]
    return sorted(due, key=lambda s: (s.account_id, s.binding_id or 0))


TRADERS: LeaseRows[TraderRuntime] = LeaseRows(
    TraderRuntime,
    TraderRuntime.account_id,
    lambda account_id: TraderRuntime(account_id=account_id, consecutive_failures=0),
)


async def claim(
    session: AsyncSession,
    *,
    account_ids: Sequence[int],
    owner: str,
    now: datetime,
    lease: timedelta,
) -> set[int]:
    """Take or renew the leases on ``account_ids`` in one statement; answers the traders
    this worker now holds (the others are held by another live worker)."""
    if not account_ids:
        return set()
    await TRADERS.take(session, ids=account_ids, owner=owner, now=now, lease=lease)
    held = await session.scalars(
        select(TraderRuntime.account_id).where(TRADERS.held_by(owner, account_ids))
    )
    return set(held)


async def release(session: AsyncSession, *, owner: str, account_ids: list[int]) -> None:
    await TRADERS.release(session, owner=owner, ids=account_ids)


async def start_due(session: AsyncSession, *, due: Schedulable, owner: str, now: datetime) -> bool:
    """Mark a cycle as started if, at this moment, it is due, the trader's lease is still
    ours and the trader and this strategy may still run: one statement, so two workers can
    never both start the same strategy's cycle, and a trader paused or deleted since the
    tick read the list (by its owner, or by the failure that just ended its last cycle)
    never runs again."""
    runnable = select(Account.id).where(Account.id == due.account_id, *may_run()).exists()
    if due.binding_id is None:
        statement = (
            update(TraderRuntime)
            .where(
                TraderRuntime.account_id == due.account_id,
                TRADERS.still_held(owner, now),
                or_(TraderRuntime.next_run_at.is_(None), TraderRuntime.next_run_at <= now),
                runnable,
                select(AccountStrategy.account_id)
                .where(
                    AccountStrategy.account_id == due.account_id,
                    AccountStrategy.enabled.is_(True),
                    AccountStrategy.scheduled_trigger_enabled.is_(True),
                )
                .exists(),
            )
            .values(next_run_at=now + due.interval, last_cycle_at=now)
        )
    else:
        await _ensure_binding_row(session, due.binding_id)
        statement = (
            update(BindingRuntime)
            .where(
                BindingRuntime.binding_id == due.binding_id,
                _lease_held(due.account_id, owner, now),
                or_(BindingRuntime.next_run_at.is_(None), BindingRuntime.next_run_at <= now),
                runnable,
                select(StrategyBinding.id)
                .where(
                    StrategyBinding.id == due.binding_id,
                    StrategyBinding.account_id == due.account_id,
                    StrategyBinding.is_active.is_(True),
                    StrategyBinding.scheduled_trigger_enabled.is_(True),
                )
                .exists(),
            )
            .values(next_run_at=now + due.interval, last_cycle_at=now)
        )
    result = await session.execute(statement)
    await session.commit()
    return result.rowcount == 1


def _lease_held(account_id: int, owner: str, now: datetime) -> ColumnElement[bool]:
    return (
        select(TraderRuntime.account_id)
        .where(TraderRuntime.account_id == account_id, TRADERS.still_held(owner, now))
        .exists()
    )


async def _ensure_binding_row(session: AsyncSession, binding_id: int) -> None:
    if await session.get(BindingRuntime, binding_id) is not None:
        return
    session.add(BindingRuntime(binding_id=binding_id))
    try:
        await session.commit()
    except IntegrityError:  # another worker created it first, or the binding just went
        await session.rollback()


async def record_outcome(
    session: AsyncSession, *, account_id: int, ok: bool, error: str | None
) -> bool:
    """Count a finished cycle (whatever triggered it); after PAUSE_AFTER_FAILURES failures
    in a row the trader is put in ``error`` with a readable reason. Returns True when this
    call paused it. The count only goes back to 0 on a success or when the owner resumes
    the trader (``reset_failures``), never by guessing from its value."""
    await TRADERS.ensure(session, [account_id])  # signal-only traders count as well
    if ok:
        await session.execute(
            update(TraderRuntime)
            .where(TraderRuntime.account_id == account_id)
            .values(consecutive_failures=0)
        )
        await session.commit()
        return False
    # One statement: cycles of one trader (schedule, bindings, signals) may end together.
    failures = await session.scalar(
        update(TraderRuntime)
        .where(TraderRuntime.account_id == account_id)
        .values(consecutive_failures=TraderRuntime.consecutive_failures + 1)
        .returning(TraderRuntime.consecutive_failures)
    )
    paused = False
    if failures is not None and failures >= PAUSE_AFTER_FAILURES:
        result = await session.execute(
            update(Account)
            .where(and_(Account.id == account_id, Account.status == "active"))
            .values(
                status="error",
                status_reason=(
                    f"paused after {failures} failed cycles in a row; "
                    f"last error: {error or 'unknown'}"
                )[:500],
            )
        )
        paused = result.rowcount == 1
    await session.commit()
    return paused


async def reset_failures(session: AsyncSession, *, account_id: int) -> None:
    """The owner resumed the trader: its failure streak starts again (the caller commits)."""
    await session.execute(
        update(TraderRuntime)
        .where(TraderRuntime.account_id == account_id)
        .values(consecutive_failures=0)
    )
