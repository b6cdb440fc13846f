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

from hyperoru.accounts.models import Account
from hyperoru.db.dml import rows_changed
from hyperoru.notifications import outbox
from hyperoru.runtime.lease_rows import LeaseRows
from hyperoru.runtime.models import StrategyRuntime, TraderRuntime
from hyperoru.strategies.models import PRIMARY, TraderStrategy

PAUSE_AFTER_FAILURES = 3


@dataclass(frozen=True, slots=True)
class Schedulable:
    """One strategy of a trader that runs on a clock: the trader's primary strategy
    (``binding_id`` None) or one of its bindings, each on its own interval."""

    account_id: int
    interval: timedelta
    binding_id: int | None = None
    next_run_at: datetime | None = None
    # The ``trader_strategies`` row, whose clock ``start_due`` moves.
    strategy_id: int = 0
    # Who started its last cycle and when, if that cycle never ended (see ``start_due``).
    running_owner: str | None = None
    running_since: datetime | None = None

    def looks_due(self, now: datetime) -> bool:
        """A cheap pre-check from the tick's read; ``start_due`` decides for real."""
        return self.next_run_at is None or self.next_run_at <= now or self.cut_short

    @property
    def cut_short(self) -> bool:
        """A cycle was started and never ended. Only meaningful to the trader's lease holder
        when it is not running the trader itself: then the worker that started it died,
        lost the trader (and stopped the cycle: ``scheduler``), or could not write the end."""
        return self.running_owner is not None


def may_run() -> tuple[ColumnElement[bool], ...]:
    """A trader that may run at all: live, active, auto-trading and not paused."""
    return (
        Account.deleted_at.is_(None),
        Account.is_active.is_(True),
        Account.auto_trading_enabled.is_(True),
        Account.status == "active",
    )


def strategy_may_run() -> tuple[ColumnElement[bool], ...]:
    """A strategy that runs on its schedule: switched on, scheduled, and its trader's
    owner's (rows written behind the API's back never run). Join ``Account`` first."""
    return (
        TraderStrategy.user_id == Account.user_id,
        TraderStrategy.is_active.is_(True),
        TraderStrategy.scheduled_trigger_enabled.is_(True),
    )


async def schedulable_traders(session: AsyncSession) -> list[Schedulable]:
    """Every scheduled strategy of every running trader, primary strategies and bindings
    alike, with its clock: the scheduler's one query. Ordered by trader, primary first."""
    rows = await session.execute(
        select(
            TraderStrategy.account_id,
            TraderStrategy.trigger_interval,
            TraderStrategy.id,
            TraderStrategy.kind,
            StrategyRuntime.next_run_at,
            StrategyRuntime.running_owner,
            StrategyRuntime.running_since,
        )
        .join(Account, Account.id == TraderStrategy.account_id)
        .outerjoin(StrategyRuntime, StrategyRuntime.strategy_id == TraderStrategy.id)
        .where(*may_run(), *strategy_may_run())
    )
    due = [
        Schedulable(
            account_id=row.account_id,
            interval=timedelta(seconds=row.trigger_interval),
            binding_id=None if row.kind == PRIMARY else row.id,
            next_run_at=row.next_run_at,
            strategy_id=row.id,
            running_owner=row.running_owner,
            running_since=row.running_since,
        )
        for row in rows
    ]
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
    never runs again.

    A strategy is also due, whatever its clock says, when the read found its last cycle
    cut short (``Schedulable.cut_short``) and that marker is still the one read: the
    caller holds the trader and runs none of its cycles, so that cycle is over."""
    await _ensure_clock(session, due.strategy_id)
    runnable = (
        select(TraderStrategy.id)
        .join(Account, Account.id == TraderStrategy.account_id)
        .join(TraderRuntime, TraderRuntime.account_id == Account.id)
        .where(
            TraderStrategy.id == due.strategy_id,
            TraderStrategy.account_id == due.account_id,
            TRADERS.still_held(owner, now),
            *may_run(),
            *strategy_may_run(),
        )
        .exists()
    )
    clock_due = or_(StrategyRuntime.next_run_at.is_(None), StrategyRuntime.next_run_at <= now)
    if due.cut_short:
        clock_due = or_(
            clock_due,
            and_(
                StrategyRuntime.running_owner == due.running_owner,
                StrategyRuntime.running_since == due.running_since,
            ),
        )
    started = await rows_changed(
        session,
        update(StrategyRuntime)
        .where(StrategyRuntime.strategy_id == due.strategy_id, clock_due, runnable)
        .values(
            next_run_at=now + due.interval,
            last_cycle_at=now,
            running_owner=owner,
            running_since=now,
        ),
    )
    await session.commit()
    return started == 1


async def finish(
    session: AsyncSession,
    *,
    due: Schedulable,
    owner: str,
    started_at: datetime,
    run_again_at: datetime | None = None,
) -> None:
    """The cycle ``owner`` started at ``started_at`` is over: clear its marker and, when it
    was cut short, move the strategy's clock to ``run_again_at`` (commits).

    Only while ``owner`` still holds the trader: a worker that lost it meanwhile leaves
    the marker to the new holder, which runs the cycle again (the old one may have
    stopped before placing its orders: ``strategies.cycle_guard``)."""
    values: dict[str, object] = {"running_owner": None, "running_since": None}
    if run_again_at is not None:
        values["next_run_at"] = run_again_at
    still_held = (
        select(TraderRuntime.account_id).where(TRADERS.held_by(owner, [due.account_id])).exists()
    )
    await session.execute(
        update(StrategyRuntime)
        .where(
            StrategyRuntime.strategy_id == due.strategy_id,
            StrategyRuntime.running_owner == owner,
            StrategyRuntime.running_since == started_at,
            still_held,
        )
        .values(**values)
    )
    await session.commit()


async def holds(session: AsyncSession, *, account_id: int, owner: str) -> bool:
    """Whether ``owner`` still holds the trader's lease (whatever its expiry says: until
    another worker takes it over, nobody else runs the trader)."""
    held = await session.scalar(
        select(TraderRuntime.account_id).where(TRADERS.held_by(owner, [account_id]))
    )
    return held is not None


async def _ensure_clock(session: AsyncSession, strategy_id: int) -> None:
    if await session.get(StrategyRuntime, strategy_id) is not None:
        return
    session.add(StrategyRuntime(strategy_id=strategy_id))
    try:
        await session.commit()
    except IntegrityError:  # another worker created it first, or the strategy just went
        await session.rollback()


async def restart_clock(session: AsyncSession, *, strategy_id: int) -> None:
    """A strategy's schedule changed: the next tick runs it, then every new interval
    (rather than waiting out a run time computed from the old interval). The caller
    commits."""
    await session.execute(
        update(StrategyRuntime)
        .where(StrategyRuntime.strategy_id == strategy_id)
        .values(next_run_at=None)
    )


async def record_outcome(
    session: AsyncSession, *, account_id: int, ok: bool, error: str | None
) -> int | None:
    """Count a finished cycle (whatever triggered it); after PAUSE_AFTER_FAILURES failures
    in a row the trader is put in ``error`` with a readable reason. Returns the owner's
    user id when this call paused it (their reads changed), else None. The count only
    goes back to 0 on a success or when the owner resumes the trader
    (``reset_failures``), never by guessing from its value."""
    await TRADERS.ensure(session, [account_id])  # signal-only traders count as well
    if ok:
        await session.execute(
            update(TraderRuntime)
            .where(TraderRuntime.account_id == account_id)
            .values(consecutive_failures=0)
        )
        await session.commit()
        return None
    # One statement: cycles of one trader (schedule, bindings, signals) may end together.
    failures = await session.scalar(
        update(TraderRuntime)
        .where(TraderRuntime.account_id == account_id)
        .values(consecutive_failures=TraderRuntime.consecutive_failures + 1)
        .returning(TraderRuntime.consecutive_failures)
    )
    owner: int | None = None
    if failures is not None and failures >= PAUSE_AFTER_FAILURES:
        owner = await session.scalar(
            update(Account)
            .where(and_(Account.id == account_id, Account.status == "active"))
            .values(
                status="error",
                status_reason=(
                    f"paused after {failures} failed cycles in a row; "
                    f"last error: {error or 'unknown'}"
                )[:500],
            )
            .returning(Account.user_id)
        )
    await outbox.cycle_failed(session, account_id=account_id, error=error, paused=owner is not None)
    await session.commit()
    return owner


async def reset_failures(session: AsyncSession, *, account_id: int) -> None:
    """The owner resumed the trader: its failure streak starts again (the caller commits)."""
    await session.execute(
        update(TraderRuntime)
        .where(TraderRuntime.account_id == account_id)
        .values(consecutive_failures=0)
    )
