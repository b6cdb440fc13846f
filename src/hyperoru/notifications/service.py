"""Bot configs, preferences, chat bindings and link codes: the use cases behind the routes.

Tokens are checked with the platform before anything is stored (with no database work
done yet in the request), sealed in the vault and only ever shown masked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.errors import ApiError, not_found, validation_error
from hyperoru.notifications import messages, secrets_store
from hyperoru.notifications.models import (
    BotConfig,
    BotPreferences,
    ChatBinding,
    LinkCode,
    OutboxMessage,
)
from hyperoru.notifications.outbox import Preferences, add_messages, preferences_of
from hyperoru.notifications.platforms import Discord, PlatformError, Telegram
from hyperoru.notifications.schemas import (
    BindingIn,
    BindingUpdate,
    ConfigIn,
    ConfigOut,
    NotificationConfig,
    NotificationConfigIn,
)
from hyperoru.timeutils import utcnow
from hyperoru.vault.cipher import SecretBox

LINK_CODE_MINUTES = 15
WEBHOOK_PATH = "/api/bots/telegram/webhook"
DISCORD_WEBHOOK_CHAT = "webhook"  # the chat id of a Discord config's channel webhook


@dataclass(frozen=True, slots=True)
class Platforms:
    telegram: Telegram
    discord: Discord
    public_url: str  # "" when the server has no public HTTPS address


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _refused(platform: str, exc: PlatformError) -> ApiError:
    if exc.kind in ("rate_limited", "transient"):
        return ApiError(
            503,
            "BOT_PLATFORM_UNAVAILABLE",
            f"{platform.capitalize()} could not check the bot now; nothing was saved, try "
            "again later",
        )
    return ApiError(
        422,
        "BOT_TOKEN_INVALID",
        f"{platform.capitalize()} refused this bot token or webhook; check it and send it again",
    )


async def config_of(session: AsyncSession, user_id: int, platform: str) -> BotConfig | None:
    return await session.scalar(
        select(BotConfig).where(BotConfig.user_id == user_id, BotConfig.platform == platform)
    )


def _token_hint(token: str | None) -> str | None:
    return token[-4:] if token and len(token) >= 12 else None


@dataclass(frozen=True, slots=True)
class _Checked:
    bot_username: str | None
    mode: str
    webhook_secret: str | None


async def _check_telegram(platforms: Platforms, token: str) -> _Checked:
    """getMe, then webhook mode (a fresh secret) or long polling (no webhook left set,
    since getUpdates fails while one is)."""
    try:
        me = await platforms.telegram.get_me(token)
        if platforms.public_url:
            secret = secrets.token_urlsafe(32)
            url = platforms.public_url.rstrip("/") + WEBHOOK_PATH
            await platforms.telegram.set_webhook(token, url, secret)
            return _Checked(me.get("username"), "webhook", secret)
        await platforms.telegram.delete_webhook(token)
        return _Checked(me.get("username"), "polling", None)
    except PlatformError as exc:
        raise _refused("telegram", exc) from None


async def _check_discord(platforms: Platforms, token: str | None, webhook: str | None) -> _Checked:
    if not token and not webhook:
        raise validation_error("Discord needs a bot_token or a webhook_url", "bot_token")
    name = None
    try:
        if token:
            name = (await platforms.discord.bot_user(token)).get("username")
        if webhook:
            found = await platforms.discord.check_webhook(webhook)
            name = name or found.get("name")
    except PlatformError as exc:
        raise _refused("discord", exc) from None
    return _Checked(name, "rest", None)


async def save_config(
    session: AsyncSession, box: SecretBox, platforms: Platforms, *, user_id: int, data: ConfigIn
) -> BotConfig:
    """Check with the platform, then store (replacing the user's bot there). Commits."""
    if data.platform == "telegram":
        if not data.bot_token:
            raise validation_error("bot_token is required", "bot_token")
        checked = await _check_telegram(platforms, data.bot_token)
    else:
        checked = await _check_discord(platforms, data.bot_token, data.webhook_url)
    try:
        row = await _store(session, box, user_id=user_id, data=data, checked=checked)
    except IntegrityError:
        await session.rollback()  # a concurrent save inserted first: this one replaces it
        row = await _store(session, box, user_id=user_id, data=data, checked=checked)
    return row


async def _store(
    session: AsyncSession, box: SecretBox, *, user_id: int, data: ConfigIn, checked: _Checked
) -> BotConfig:
    now = utcnow()
    row = await config_of(session, user_id, data.platform)
    if row is None:
        row = BotConfig(user_id=user_id, platform=data.platform, poll_offset=0, created_at=now)
        session.add(row)
    row.token_hint = _token_hint(data.bot_token)
    row.has_webhook = bool(data.webhook_url)
    row.bot_username = checked.bot_username
    row.chat_id = data.chat_id
    row.guild_id = data.guild_id
    row.public_key = data.public_key.lower() if data.public_key else None
    row.mode = checked.mode
    row.webhook_secret_sha256 = sha256(checked.webhook_secret) if checked.webhook_secret else None
    row.connected = True
    row.updated_at = now
    await session.flush()
    await secrets_store.put(session, box, row, secrets_store.TOKEN, data.bot_token)
    await secrets_store.put(session, box, row, secrets_store.WEBHOOK, data.webhook_url)
    if data.chat_id:
        await _bind(session, user_id, data.platform, data.chat_id, [], linked=False, now=now)
    if data.webhook_url:
        await _bind(session, user_id, "discord", DISCORD_WEBHOOK_CHAT, [], linked=False, now=now)
    await session.commit()
    return row


async def _bind(
    session: AsyncSession,
    user_id: int,
    platform: str,
    chat_id: str,
    trader_ids: list[int],
    *,
    linked: bool,
    now: datetime,
) -> ChatBinding:
    """The chat's binding, created or made active again (a re-link clears a failure)."""
    row = await session.scalar(
        select(ChatBinding).where(
            ChatBinding.user_id == user_id,
            ChatBinding.platform == platform,
            ChatBinding.chat_id == chat_id,
        )
    )
    if row is None:
        row = ChatBinding(
            user_id=user_id,
            platform=platform,
            chat_id=chat_id,
            trader_ids=trader_ids,
            linked=linked,
            created_at=now,
        )
        session.add(row)
    else:
        row.linked = row.linked or linked
        if trader_ids:
            row.trader_ids = trader_ids
    row.status = "active"
    row.disabled_reason = None
    row.pending = None
    row.updated_at = now
    await session.flush()
    return row


def config_out(row: BotConfig | None, platform: str, public_url: str) -> ConfigOut:
    if row is None:
        return ConfigOut(platform=platform, connected=False)  # type: ignore[arg-type]
    interactions = (
        f"{public_url.rstrip('/')}/api/bots/discord/interactions/{row.id}"
        if row.platform == "discord" and public_url and row.public_key
        else None
    )
    return ConfigOut(
        platform=row.platform,  # type: ignore[arg-type]
        connected=row.connected,
        chat_id=row.chat_id,
        bot_token=secrets_store.MASK if row.token_hint is not None else None,
        bot_username=row.bot_username,
        guild_id=row.guild_id,
        mode=row.mode,
        webhook_url=secrets_store.MASK if row.has_webhook else None,
        interactions_url=interactions,
    )


async def delete_config(session: AsyncSession, *, user_id: int, platform: str) -> None:
    """The bot, its secrets and its chats go; undelivered messages to them go too. Commits."""
    row = await config_of(session, user_id, platform)
    if row is None:
        raise not_found("bot_config", "No bot is configured for this platform")
    # A Telegram webhook stays registered there, but its secret matches no row any more.
    await secrets_store.wipe(session, row)
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.platform == platform,
            OutboxMessage.status == "pending",
        )
    )
    await session.execute(
        delete(ChatBinding).where(ChatBinding.user_id == user_id, ChatBinding.platform == platform)
    )
    await session.delete(row)
    await session.commit()


async def queue_test_messages(session: AsyncSession, *, user_id: int, platform: str) -> int:
    """One test message to each active chat of the user's bot there, through the outbox
    and the delivery worker like any notification; the number queued. Sent whatever the
    preferences say (the owner asked for it). Commits."""
    config = await config_of(session, user_id, platform)
    if config is None:
        raise not_found("bot_config", "No bot is configured for this platform")
    chats = list(
        await session.scalars(
            select(ChatBinding)
            .where(
                ChatBinding.user_id == user_id,
                ChatBinding.platform == platform,
                ChatBinding.status == "active",
            )
            .order_by(ChatBinding.id)
        )
    )
    if not config.connected or not chats:
        raise ApiError(
            409,
            "BOT_NO_CHAT",
            "This bot has no chat to send to: bind a chat (or turn a disabled one back on), "
            "or save the bot again if the platform refused its token",
        )
    queued = add_messages(session, chats, "test", messages.TEST)
    await session.commit()
    return queued


# --- preferences -------------------------------------------------------------------------


def notification_config(preferences: Preferences) -> NotificationConfig:
    return NotificationConfig(
        enabled=preferences.enabled,
        trade_notifications=preferences.trade,
        position_closed_notifications=preferences.position_closed,
        signal_notifications=preferences.signal,
        error_notifications=preferences.error,
        paused_notifications=preferences.paused,
        daily_summary=preferences.daily_summary,
        daily_summary_time=preferences.summary_time,
        time_zone=preferences.time_zone,
        min_pnl_threshold=preferences.min_pnl_threshold,
    )


async def _preferences_row(session: AsyncSession, user_id: int) -> BotPreferences:
    row = await session.get(BotPreferences, user_id)
    if row is not None:
        return row
    defaults = Preferences()
    row = BotPreferences(
        user_id=user_id,
        enabled=defaults.enabled,
        trade=defaults.trade,
        position_closed=defaults.position_closed,
        signal=defaults.signal,
        error=defaults.error,
        paused=defaults.paused,
        daily_summary=defaults.daily_summary,
        summary_time=defaults.summary_time,
        time_zone=defaults.time_zone,
        min_pnl_threshold=defaults.min_pnl_threshold,
        updated_at=utcnow(),
    )
    session.add(row)
    return row


async def read_preferences(session: AsyncSession, user_id: int) -> Preferences:
    return preferences_of(await session.get(BotPreferences, user_id))


async def set_enabled(session: AsyncSession, *, user_id: int, enabled: bool) -> None:
    row = await _preferences_row(session, user_id)
    row.enabled = enabled
    row.updated_at = utcnow()
    await session.commit()


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise validation_error("time_zone is not a known IANA time zone", "time_zone") from None


async def update_preferences(
    session: AsyncSession, *, user_id: int, data: NotificationConfigIn
) -> Preferences:
    if data.time_zone is not None:
        _check_zone(data.time_zone)
    row = await _preferences_row(session, user_id)
    fields: dict[str, bool | str | Decimal | None] = {
        "trade": data.trade_notifications,
        "position_closed": data.position_closed_notifications,
        "signal": data.signal_notifications,
        "error": data.error_notifications,
        "paused": data.paused_notifications,
        "daily_summary": data.daily_summary,
        "summary_time": data.daily_summary_time,
        "time_zone": data.time_zone,
        "min_pnl_threshold": data.min_pnl_threshold,
    }
    for name, value in fields.items():
        if value is not None:
            setattr(row, name, value)
    if data.daily_summary_time is not None or data.time_zone is not None:
        row.last_summary_on = None
    row.updated_at = utcnow()
    await session.commit()
    return preferences_of(row)


# --- chat bindings and link codes ----------------------------------------------------------


async def _check_traders(session: AsyncSession, user_id: int, trader_ids: list[int]) -> list[int]:
    wanted = sorted(set(trader_ids))
    if not wanted:
        return []
    owned = set(
        await session.scalars(
            select(Account.id).where(
                Account.id.in_(wanted), Account.user_id == user_id, Account.deleted_at.is_(None)
            )
        )
    )
    if owned != set(wanted):
        raise not_found("account", "Account not found")
    return wanted


async def list_bindings(session: AsyncSession, user_id: int) -> list[ChatBinding]:
    return list(
        await session.scalars(
            select(ChatBinding).where(ChatBinding.user_id == user_id).order_by(ChatBinding.id)
        )
    )


async def create_binding(session: AsyncSession, *, user_id: int, data: BindingIn) -> ChatBinding:
    if await config_of(session, user_id, data.platform) is None:
        raise not_found("bot_config", "Configure the bot of this platform first")
    traders = await _check_traders(session, user_id, data.trader_ids)
    row = await _bind(
        session, user_id, data.platform, data.chat_id, traders, linked=False, now=utcnow()
    )
    await session.commit()
    return row


async def owned_binding(session: AsyncSession, *, user_id: int, binding_id: int) -> ChatBinding:
    row = await session.get(ChatBinding, binding_id)
    if row is None or row.user_id != user_id:
        raise not_found("bot_binding", "No such chat binding")
    return row


async def update_binding(
    session: AsyncSession, *, user_id: int, binding_id: int, data: BindingUpdate
) -> ChatBinding:
    row = await owned_binding(session, user_id=user_id, binding_id=binding_id)
    if data.trader_ids is not None:
        row.trader_ids = await _check_traders(session, user_id, data.trader_ids)
    if data.enabled is not None:
        row.status = "active" if data.enabled else "disabled"
        row.disabled_reason = None if data.enabled else "turned off by its owner"
    row.updated_at = utcnow()
    await session.commit()
    return row


async def delete_binding(session: AsyncSession, *, user_id: int, binding_id: int) -> None:
    row = await owned_binding(session, user_id=user_id, binding_id=binding_id)
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.binding_id == row.id, OutboxMessage.status == "pending"
        )
    )
    await session.delete(row)
    await session.commit()


async def create_link_code(
    session: AsyncSession, *, user_id: int, platform: str, trader_ids: list[int]
) -> tuple[str, datetime]:
    """A one-time code for ``/start <code>``; only its hash is stored."""
    if await config_of(session, user_id, platform) is None:
        raise not_found("bot_config", "Configure the bot of this platform first")
    traders = await _check_traders(session, user_id, trader_ids)
    code = secrets.token_hex(8)
    expires = utcnow() + timedelta(minutes=LINK_CODE_MINUTES)
    session.add(
        LinkCode(
            code_sha256=sha256(code),
            user_id=user_id,
            platform=platform,
            trader_ids=traders,
            expires_at=expires,
        )
    )
    await session.commit()
    return code, expires


async def use_link_code(
    session: AsyncSession, *, user_id: int, platform: str, code: str, chat_id: str, now: datetime
) -> ChatBinding | None:
    """The chat linked for commands, or None for a wrong, used or expired code. Flushes."""
    taken = await session.execute(
        update(LinkCode)
        .where(
            LinkCode.code_sha256 == sha256(code),
            LinkCode.user_id == user_id,
            LinkCode.platform == platform,
            LinkCode.used_at.is_(None),
            LinkCode.expires_at > now,
        )
        .values(used_at=now)
        .returning(LinkCode.trader_ids)
    )
    trader_ids = taken.scalar_one_or_none()
    if trader_ids is None:
        return None
    return await _bind(session, user_id, platform, chat_id, list(trader_ids), linked=True, now=now)


async def recent_outbox(
    session: AsyncSession, user_id: int, *, limit: int, offset: int
) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.user_id == user_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
