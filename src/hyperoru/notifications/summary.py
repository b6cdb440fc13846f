"""The daily summary: once per local day, at the user's chosen time in their time zone.

The day is claimed by a conditional update of ``last_summary_on`` in the transaction
that queues the messages, so two workers (or a restart) write one summary per day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.db.dml import rows_changed
from hyperoru.notifications.commands import TraderDesk
from hyperoru.notifications.models import BotPreferences
from hyperoru.notifications.outbox import add_messages, audience_of


def due_day(preferences: BotPreferences, now: datetime) -> str | None:
    """The local date whose summary is due now, or None (pure)."""
    local = now.astimezone(ZoneInfo(preferences.time_zone))
    today = local.date().isoformat()
    if preferences.last_summary_on == today or local.strftime("%H:%M") < preferences.summary_time:
        return None
    return today


@dataclass
class DailySummaries:
    sessions: async_sessionmaker[AsyncSession]
    desk: TraderDesk
    clock: Callable[[], datetime]

    async def tick(self) -> int:
        """Queue every summary due now; how many users got one."""
        now = self.clock()
        async with self.sessions() as session:
            wanted = list(
                await session.scalars(
                    select(BotPreferences).where(
                        BotPreferences.daily_summary.is_(True), BotPreferences.enabled.is_(True)
                    )
                )
            )
            due = [(p.user_id, day) for p in wanted if (day := due_day(p, now)) is not None]
            await session.commit()
        written = 0
        for user_id, day in due:
            async with self.sessions() as session:
                written += await self._write(session, user_id, day)
        return written

    async def _write(self, session: AsyncSession, user_id: int, day: str) -> int:
        claimed = await rows_changed(
            session,
            update(BotPreferences)
            .where(
                BotPreferences.user_id == user_id,
                or_(
                    BotPreferences.last_summary_on.is_(None), BotPreferences.last_summary_on != day
                ),
            )
            .values(last_summary_on=day),
        )
        audience = await audience_of(session, user_id) if claimed else None
        if audience is None:
            await session.commit()
            return 0
        for binding in audience.bindings:
            message = await self.desk.daily_summary(session, user_id, list(binding.trader_ids))
            add_messages(session, [binding], "daily_summary", message)
        await session.commit()
        return 1
