"""What the platforms send us: Telegram updates (webhook or long polling) and Discord
interactions. Each update is handled once (its id is recorded in the transaction that
acts on it and queues the reply), so Telegram's re-sends change nothing."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.errors import ApiError, unauthorized
from hyperoru.notifications import commands, secrets_store
from hyperoru.notifications.commands import TraderDesk
from hyperoru.notifications.messages import Message
from hyperoru.notifications.models import BotConfig, HandledUpdate, OutboxMessage
from hyperoru.notifications.platforms import PlatformError, Telegram
from hyperoru.notifications.schemas import InteractionData, InteractionOut
from hyperoru.notifications.service import sha256
from hyperoru.vault.cipher import SecretBox

log = logging.getLogger("hyperoru.notifications")

SIGNATURE_MAX_AGE = timedelta(minutes=5)


def _forbidden() -> ApiError:
    return ApiError(403, "BOT_WEBHOOK_FORBIDDEN", "Wrong or missing webhook secret")


def _bad_signature() -> ApiError:
    # Discord requires a 401 here; the header is the one every 401 of the API carries.
    return unauthorized("BOT_SIGNATURE_INVALID", "invalid request signature")


async def _first_time(session: AsyncSession, config_id: int, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was handled before."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    done = await session.execute(
        insert(HandledUpdate)
        .values(config_id=config_id, update_id=update_id, handled_at=now)
        .on_conflict_do_nothing()
        .returning(HandledUpdate.update_id)
    )
    return done.first() is not None


def _reply(
    session: AsyncSession, config: BotConfig, chat_id: str, message: Message, now: datetime
) -> None:
    session.add(
        OutboxMessage(
            user_id=config.user_id,
            binding_id=None,
            platform=config.platform,
            chat_id=chat_id,
            kind="reply",
            text=message.render("telegram" if config.platform == "telegram" else "discord"),
            status="pending",
            attempts=0,
            available_at=now,
            created_at=now,
        )
    )


async def telegram_update(
    session: AsyncSession, desk: TraderDesk, config: BotConfig, update: Any, now: datetime
) -> None:
    """Act on one update and queue the reply (flushes; the caller commits)."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return
    if not await _first_time(session, config.id, update["update_id"], now):
        return
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not isinstance(chat_id, int | str) or isinstance(chat_id, bool):
        return
    answer = await commands.handle(
        session, desk, config=config, chat_id=str(chat_id), text=message["text"][:500], now=now
    )
    _reply(session, config, str(chat_id), answer, now)


async def telegram_webhook(
    session: AsyncSession, desk: TraderDesk, *, secret: str | None, update: Any, now: datetime
) -> None:
    """The webhook POST: the bot is the one whose secret the header carries (compared in
    constant time); 403 BOT_WEBHOOK_FORBIDDEN otherwise. Commits."""
    if not secret:
        raise _forbidden()
    digest = sha256(secret)
    config = await session.scalar(
        select(BotConfig).where(
            BotConfig.webhook_secret_sha256 == digest,
            BotConfig.platform == "telegram",
            BotConfig.mode == "webhook",
        )
    )
    if config is None or not hmac.compare_digest(config.webhook_secret_sha256 or "", digest):
        raise _forbidden()
    await telegram_update(session, desk, config, update, now)
    await session.commit()


@dataclass
class TelegramPoller:
    """Long polling for bots of a server without a public URL: one short ``getUpdates``
    per bot per tick (no long wait, so one slow bot does not hold the others)."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    telegram: Telegram
    desk: TraderDesk
    clock: Callable[[], datetime]

    async def tick(self) -> int:
        async with self.sessions() as session:
            configs = list(
                await session.scalars(
                    select(BotConfig).where(
                        BotConfig.platform == "telegram",
                        BotConfig.mode == "polling",
                        BotConfig.connected.is_(True),
                    )
                )
            )
            tokens = {
                c.id: await secrets_store.read(session, self.box, c, secrets_store.TOKEN)
                for c in configs
            }
            await session.commit()
        handled = 0
        for config in configs:
            token = tokens.get(config.id)
            if not token:
                continue
            try:
                updates = await self.telegram.get_updates(token, config.poll_offset, 0)
            except PlatformError as exc:
                log.warning(
                    "telegram polling failed",
                    extra={
                        "event": "bot_poll_failed",
                        "config_id": config.id,
                        "reason": exc.reason,
                    },
                )
                continue
            handled += await self._handle(config.id, updates)
        return handled

    async def _handle(self, config_id: int, updates: list[dict[str, Any]]) -> int:
        async with self.sessions() as session:
            config = await session.get(BotConfig, config_id)
            if config is None:
                return 0
            now = self.clock()
            for update in updates:
                await telegram_update(session, self.desk, config, update, now)
                if isinstance(update.get("update_id"), int):
                    config.poll_offset = max(config.poll_offset, update["update_id"] + 1)
            await session.commit()
            return len(updates)


def signature_valid(public_key: str, signature: str, timestamp: str, body: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), timestamp.encode() + body)
    except (ValueError, InvalidSignature):
        return False
    return True


def _command_text(data: Any) -> str:
    """A slash command as the text a Telegram user would type: ``/pause Alpha``."""
    if not isinstance(data, dict):
        return ""
    words = [f"/{data.get('name', '')}"]
    for option in data.get("options") or []:
        if isinstance(option, dict) and option.get("value") is not None:
            words.append(str(option["value"]))
    return " ".join(words)


async def discord_interaction(
    session: AsyncSession,
    desk: TraderDesk,
    *,
    config_id: int,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    now: datetime,
) -> InteractionOut:
    """A signed interaction (Ed25519 over timestamp + body with the app's public key;
    401 otherwise, as Discord requires): PING answers PONG, a command answers privately
    to whoever ran it. Commits."""
    config = await session.get(BotConfig, config_id)
    if config is None or config.platform != "discord" or not config.public_key:
        raise _bad_signature()
    if not signature or not timestamp or not timestamp.isdigit():
        raise _bad_signature()
    if not signature_valid(config.public_key, signature, timestamp, body):
        raise _bad_signature()
    if abs(now.timestamp() - int(timestamp)) > SIGNATURE_MAX_AGE.total_seconds():
        raise _bad_signature()  # an old signed request sent again
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or payload.get("type") == 1:
        return InteractionOut(type=1)
    channel = payload.get("channel_id")
    if payload.get("type") != 2 or not isinstance(channel, str):
        return InteractionOut(type=4, data=InteractionData(content="Unsupported"))
    answer = await commands.handle(
        session,
        desk,
        config=config,
        chat_id=channel,
        text=_command_text(payload.get("data"))[:500],
        now=now,
    )
    await session.commit()
    return InteractionOut(type=4, data=InteractionData(content=answer.render("discord")))
