"""The delivery worker: claims due outbox rows with a lease, sends them within the
platforms' limits, and records what happened.

Exactly once: a row is sent only by the worker holding its lease and marked ``sent`` in
the same step, shielded from cancellation, so a stopping worker finishes the message in
hand and a restarted or second worker never picks up a row already sent. A process that
dies between the platform's answer and the mark would send that one row again after the
lease runs out (Discord drops it by its nonce; Telegram has no such key).

Limits: one message per chat per ``chat_interval`` and ``per_second`` per bot, read from
the outbox itself (when each chat and bot last received a message), so a restarted worker
and a second one see what the first sent. A 429 holds the whole bot back for its
``retry_after``; other failures retry with backoff; a permanent one (blocked bot, deleted
chat) disables the chat's binding with the platform's words as the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.notifications import secrets_store
from hyperoru.notifications.models import BotConfig, ChatBinding, HandledUpdate, OutboxMessage
from hyperoru.notifications.platforms import Discord, PlatformError, Telegram
from hyperoru.notifications.service import DISCORD_WEBHOOK_CHAT
from hyperoru.vault.cipher import SecretBox

log = logging.getLogger("hyperoru.notifications")

MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Limits:
    chat_interval: float  # seconds between two messages to one chat
    per_second: int  # messages per second per bot


# Telegram: about 1/s per chat and 30/s per bot; Discord: about 30/min per channel.
LIMITS = {"telegram": Limits(1.0, 25), "discord": Limits(2.0, 25)}


@dataclass
class DeliveryWorker:
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    telegram: Telegram
    discord: Discord
    owner: str
    clock: Callable[[], datetime]
    lease_seconds: float = 60.0
    batch: int = 50
    limits: dict[str, Limits] = field(default_factory=lambda: dict(LIMITS))
    # (user, platform) -> when a 429 stops holding that bot back.
    _held_until: dict[tuple[int, str], datetime] = field(default_factory=dict)

    async def tick(self) -> int:
        """Claim what may go now and send it; the number of messages delivered."""
        claimed = await self.claim()
        sent = 0
        for row_id in claimed:
            # Shielded: once a message is on its way, it is finished and marked even if
            # the worker is being stopped.
            sent += await asyncio.shield(self._deliver(row_id))
        return sent

    async def claim(self) -> list[int]:
        """Lease the due rows this tick may send: at most one per chat, none for a chat
        or bot still inside its limit or held back by a 429. Commits."""
        now = self.clock()
        async with self.sessions() as session:
            candidates = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.status == "pending",
                        OutboxMessage.available_at <= now,
                        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(self.batch * 4)
                    .with_for_update(skip_locked=True)
                )
            )
            if not candidates:
                await session.commit()
                return []
            last_sent, busy, budgets = await self._recent(session, candidates, now)
            chosen: list[int] = []
            for row in candidates:
                chat = (row.platform, row.chat_id)
                bot = (row.user_id, row.platform)
                limits = self.limits[row.platform]
                held = self._held_until.get(bot)
                if chat in busy or (held is not None and held > now):
                    continue
                previous = last_sent.get(chat)
                if previous is not None and now - previous < timedelta(
                    seconds=limits.chat_interval
                ):
                    continue
                if budgets.get(bot, 0) >= limits.per_second:
                    continue
                busy.add(chat)
                budgets[bot] = budgets.get(bot, 0) + 1
                chosen.append(row.id)
                if len(chosen) >= self.batch:
                    break
            if chosen:
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(chosen),
                        OutboxMessage.status == "pending",
                        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    )
                    .values(
                        lease_owner=self.owner,
                        lease_until=now + timedelta(seconds=self.lease_seconds),
                    )
                )
            await session.commit()
            if not chosen:
                return []
            # Only what this worker really holds (a concurrent claim may have won a row).
            held_rows = await session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.id.in_(chosen), OutboxMessage.lease_owner == self.owner)
                .order_by(OutboxMessage.id)
            )
            return list(held_rows)

    async def _recent(
        self, session: AsyncSession, candidates: list[OutboxMessage], now: datetime
    ) -> tuple[dict[tuple[str, str], datetime], set[tuple[str, str]], dict[tuple[int, str], int]]:
        """When each candidate chat last received a message, which chats another worker
        is sending to now, and how many messages each bot sent in the last second."""
        chats = {(r.platform, r.chat_id) for r in candidates}
        bots = {(r.user_id, r.platform) for r in candidates}
        window = now - timedelta(seconds=max(lim.chat_interval for lim in self.limits.values()))
        in_chats = or_(
            *(and_(OutboxMessage.platform == p, OutboxMessage.chat_id == c) for p, c in chats)
        )
        last_sent = {
            (p, c): at
            for p, c, at in await session.execute(
                select(
                    OutboxMessage.platform, OutboxMessage.chat_id, func.max(OutboxMessage.sent_at)
                )
                .where(in_chats, OutboxMessage.sent_at > window)
                .group_by(OutboxMessage.platform, OutboxMessage.chat_id)
            )
            if at is not None
        }
        busy = {
            (p, c)
            for p, c in await session.execute(
                select(OutboxMessage.platform, OutboxMessage.chat_id).where(
                    in_chats,
                    OutboxMessage.status == "pending",
                    OutboxMessage.lease_until >= now,
                )
            )
        }
        second = now - timedelta(seconds=1)
        budgets = {
            (u, p): n
            for u, p, n in await session.execute(
                select(OutboxMessage.user_id, OutboxMessage.platform, func.count())
                .where(
                    OutboxMessage.user_id.in_({u for u, _ in bots}),
                    OutboxMessage.sent_at > second,
                )
                .group_by(OutboxMessage.user_id, OutboxMessage.platform)
            )
        }
        return last_sent, busy, budgets

    def _lease_held(self, row_id: int) -> object:
        return and_(
            OutboxMessage.id == row_id,
            OutboxMessage.status == "pending",
            OutboxMessage.lease_owner == self.owner,
        )

    async def _deliver(self, row_id: int) -> int:
        async with self.sessions() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None or row.status != "pending" or row.lease_owner != self.owner:
                return 0
            held = self._held_until.get((row.user_id, row.platform))
            if held is not None and held > self.clock():
                # A 429 earlier in this tick: the whole bot waits, this row too.
                await self._retry(session, row, held, "waiting for retry_after", count=False)
                return 0
            config = await session.scalar(
                select(BotConfig).where(
                    BotConfig.user_id == row.user_id, BotConfig.platform == row.platform
                )
            )
            if config is None or not config.connected:
                await self._finish(session, row, dead="the bot of this platform is not connected")
                return 0
            token = await secrets_store.read(session, self.box, config, secrets_store.TOKEN)
            webhook = (
                await secrets_store.read(session, self.box, config, secrets_store.WEBHOOK)
                if row.chat_id == DISCORD_WEBHOOK_CHAT
                else None
            )
            await session.commit()  # no transaction held across the platform call
            try:
                await self._send(row, token, webhook)
            except PlatformError as exc:
                await self._failed(session, row, config, exc)
                return 0
            await self._finish(session, row, sent=True)
            return 1

    async def _send(self, row: OutboxMessage, token: str | None, webhook: str | None) -> None:
        if row.platform == "telegram":
            await self.telegram.send_message(token or "", row.chat_id, row.text)
        elif webhook is not None:
            await self.discord.webhook_message(webhook, row.text)
        else:
            await self.discord.channel_message(token or "", row.chat_id, row.text, f"hy{row.id}")

    async def _finish(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        *,
        sent: bool = False,
        dead: str | None = None,
    ) -> None:
        now = self.clock()
        await session.execute(
            update(OutboxMessage)
            .where(self._lease_held(row.id))  # type: ignore[arg-type]
            .values(
                status="sent" if sent else "dead",
                sent_at=now if sent else None,
                attempts=OutboxMessage.attempts + 1,
                last_error=dead,
                lease_owner=None,
                lease_until=None,
            )
        )
        await session.commit()

    async def _failed(
        self, session: AsyncSession, row: OutboxMessage, config: BotConfig, exc: PlatformError
    ) -> None:
        now = self.clock()
        attempts = row.attempts + 1
        if exc.kind == "rate_limited":
            wait = exc.retry_after or 1.0
            self._held_until[(row.user_id, row.platform)] = now + timedelta(seconds=wait)
            await self._retry(session, row, now + timedelta(seconds=wait), exc.reason, count=False)
            return
        if exc.kind in ("permanent", "unauthorized") or attempts >= MAX_ATTEMPTS:
            await self._finish(session, row, dead=exc.reason)
            if exc.kind == "unauthorized":
                await session.execute(
                    update(BotConfig).where(BotConfig.id == config.id).values(connected=False)
                )
            if row.binding_id is not None and exc.kind != "transient":
                await session.execute(
                    update(ChatBinding)
                    .where(ChatBinding.id == row.binding_id)
                    .values(status="disabled", disabled_reason=exc.reason, updated_at=now)
                )
            await session.commit()
            log.warning(
                "notification undeliverable",
                extra={"event": "bot_message_dead", "outbox_id": row.id, "reason": exc.reason},
            )
            return
        backoff = min(MAX_BACKOFF_SECONDS, 2.0**attempts)
        await self._retry(session, row, now + timedelta(seconds=backoff), exc.reason, count=True)

    async def _retry(
        self, session: AsyncSession, row: OutboxMessage, at: datetime, reason: str, *, count: bool
    ) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(self._lease_held(row.id))  # type: ignore[arg-type]
            .values(
                available_at=at,
                attempts=OutboxMessage.attempts + (1 if count else 0),
                last_error=reason,
                lease_owner=None,
                lease_until=None,
            )
        )
        await session.commit()


KEEP_DAYS = 14


async def prune(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Forget finished messages and handled update ids after two weeks (the outbox route
    shows recent ones; Telegram re-sends an update for at most a day)."""
    before = now - timedelta(days=KEEP_DAYS)
    async with sessions() as session:
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status != "pending", OutboxMessage.created_at < before
            )
        )
        await session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
        await session.commit()
