"""Rows leased to workers by compare-and-set: one row per thing to run (a trader, a signal
pool), holding ``lease_owner`` and ``lease_expires_at``. The same statements on SQLite and
PostgreSQL; a dead worker's rows are taken over once its leases expire."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

Row = TypeVar("Row")


class LeaseRows(Generic[Row]):
    """``model`` rows keyed by the integer column ``key``; ``new_row(id)`` builds a missing
    one with its defaults."""

    def __init__(
        self, model: type[Row], key: InstrumentedAttribute[int], new_row: Callable[[int], Row]
    ) -> None:
        self.model: Any = model
        self.key = key
        self._new_row = new_row

    async def ensure(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Create the rows that do not exist yet (commits)."""
        existing = set(await session.scalars(select(self.key).where(self.key.in_(ids))))
        missing = [i for i in ids if i not in existing]
        if not missing:
            return
        session.add_all(self._new_row(i) for i in missing)
        try:
            await session.commit()
        except IntegrityError:  # another worker created some first: same outcome
            await session.rollback()
            for row_id in missing:
                await self.ensure(session, [row_id])

    async def take(
        self,
        session: AsyncSession,
        *,
        ids: Sequence[int],
        owner: str,
        now: datetime,
        lease: timedelta,
    ) -> None:
        """Take or renew the leases on ``ids`` in one statement (commits): free ones,
        expired ones and ours. Read ``held_by(owner)`` for the outcome."""
        await self.ensure(session, ids)
        model = self.model
        await session.execute(
            update(model)
            .where(
                self.key.in_(ids),
                or_(
                    model.lease_owner.is_(None),
                    model.lease_owner == owner,
                    model.lease_expires_at < now,
                ),
            )
            .values(lease_owner=owner, lease_expires_at=now + lease)
        )
        await session.commit()

    def held_by(self, owner: str, ids: Sequence[int]) -> ColumnElement[bool]:
        return self.key.in_(ids) & (self.model.lease_owner == owner)

    def still_held(self, owner: str, now: datetime) -> ColumnElement[bool]:
        """The lease is ours and has not run out: the guard of every write a holder makes."""
        return (self.model.lease_owner == owner) & (self.model.lease_expires_at >= now)

    async def release(self, session: AsyncSession, *, owner: str, ids: Sequence[int]) -> None:
        if not ids:
            return
        await session.execute(
            update(self.model)
            .where(self.held_by(owner, ids))
            .values(lease_owner=None, lease_expires_at=None)
        )
        await session.commit()
