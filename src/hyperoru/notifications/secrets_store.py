"""A bot's secrets in the vault: its token, and a Discord webhook URL (which holds one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.notifications.models import BotConfig
from hyperoru.vault import store
from hyperoru.vault.cipher import SecretAddress, SecretBox

SCOPE = "bot_config"
TOKEN = "bot_token"  # noqa: S105 - a vault field name
WEBHOOK = "discord_webhook_url"
MASK = "***masked***"


def address(config: BotConfig, field: str) -> SecretAddress:
    return SecretAddress(user_id=config.user_id, scope=SCOPE, scope_id=config.id, field=field)


async def put(
    session: AsyncSession, box: SecretBox, config: BotConfig, field: str, value: str | None
) -> None:
    if value:
        await store.put_secret(session, box, address(config, field), value)
    else:
        await store.delete_secret(session, address(config, field))


async def read(session: AsyncSession, box: SecretBox, config: BotConfig, field: str) -> str | None:
    return await store.read_secret(session, box, address(config, field))


async def wipe(session: AsyncSession, config: BotConfig) -> None:
    await store.delete_record_secrets(session, scope=SCOPE, scope_id=config.id)
