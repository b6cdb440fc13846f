"""Per-user limits of the assistant (settings): streams at once, messages a minute, model
tokens a UTC day. Each refusal is the contract's 429 ``RATE_LIMITED`` with
``Retry-After``.

Messages a minute go through the shared rate limiter (memory, or Redis across
processes). Tokens a day are rows in the database. Streams at once are counted in the
process that runs them (``LocalStreamSlots``), or with Redis across every process
(assistant/redis_slots.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.assistant.models import AssistantUsage
from hyperoru.db.dml import rows_changed
from hyperoru.errors import ApiError
from hyperoru.ratelimit.dependencies import rate_limited
from hyperoru.ratelimit.limiter import Budget, LimitStatus, RateLimiter

MINUTE = 60


def _too_many(message: str, limit: int, retry_after: int) -> ApiError:
    status = LimitStatus(allowed=False, limit=limit, remaining=0, reset_seconds=retry_after)
    return rate_limited(status, message)


def too_many_streams(limit: int) -> ApiError:
    return _too_many(f"At most {limit} assistant chats may run at once", limit, 1)


class StreamSlots(Protocol):
    async def acquire(self, user_id: int, limit: int) -> None:
        """Raises 429 RATE_LIMITED when ``limit`` chats of the user run already."""
        ...

    async def release(self, user_id: int) -> None:
        """Gives back one slot the user took in this process. Never raises."""
        ...

    def running(self, user_id: int) -> int:
        """The user's chats running in this process."""
        ...

    async def renew(self) -> None:
        """Keeps this process's slots taken (the heartbeat)."""
        ...


class LocalStreamSlots:
    """Chats running now, per user, in this process."""

    def __init__(self) -> None:
        self._running: Counter[int] = Counter()

    async def acquire(self, user_id: int, limit: int) -> None:
        if self._running[user_id] >= limit:
            raise too_many_streams(limit)
        self._running[user_id] += 1

    async def release(self, user_id: int) -> None:
        self._running[user_id] -= 1
        if self._running[user_id] <= 0:
            del self._running[user_id]

    def running(self, user_id: int) -> int:
        return self._running[user_id]

    async def renew(self) -> None:
        return None


async def spend_message(limiter: RateLimiter, *, user_id: int, per_minute: int) -> None:
    budget = Budget("assistant_messages", per_minute, MINUTE, exact=True)
    status = await limiter.hit(budget, str(user_id))
    if not status.allowed:
        raise rate_limited(status, f"At most {per_minute} assistant messages a minute")


def _day(now: datetime) -> str:
    return now.date().isoformat()


async def tokens_spent(session: AsyncSession, *, user_id: int, now: datetime) -> int:
    spent = await session.scalar(
        select(AssistantUsage.tokens).where(
            AssistantUsage.user_id == user_id, AssistantUsage.day == _day(now)
        )
    )
    return spent or 0


async def check_tokens(session: AsyncSession, *, user_id: int, per_day: int, now: datetime) -> None:
    if await tokens_spent(session, user_id=user_id, now=now) >= per_day:
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        retry = max(1, int((midnight - now).total_seconds()))
        raise _too_many(f"The assistant's {per_day} tokens for today are spent", per_day, retry)


async def add_tokens(
    sessionmaker: async_sessionmaker[AsyncSession], *, user_id: int, tokens: int, now: datetime
) -> None:
    """Adds to today's count in its own transaction (two chats ending at once both count)."""
    if tokens <= 0:
        return
    day = _day(now)
    more = (
        update(AssistantUsage)
        .where(AssistantUsage.user_id == user_id, AssistantUsage.day == day)
        .values(tokens=AssistantUsage.tokens + tokens)
    )
    async with sessionmaker() as session:
        if await rows_changed(session, more) == 0:
            session.add(AssistantUsage(user_id=user_id, day=day, tokens=tokens))
            try:
                await session.commit()
                return
            except IntegrityError:  # the other chat created today's row first
                await session.rollback()
                await rows_changed(session, more)
        await session.commit()
