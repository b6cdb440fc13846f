"""/api/bot (the API reference's routes) and /api/bots (the feature page's), chat
bindings and link codes; the public Telegram webhook and Discord interactions routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.notifications import inbound, service
from hyperoru.notifications.messages import Platform
from hyperoru.notifications.models import ChatBinding
from hyperoru.notifications.runtime import Bots
from hyperoru.notifications.schemas import (
    BindingIn,
    BindingOut,
    BindingUpdate,
    ConfigIn,
    ConfigOut,
    DiscordIn,
    InteractionOut,
    LinkCodeIn,
    LinkCodeOut,
    NotificationConfig,
    NotificationConfigIn,
    OkOut,
    OutboxOut,
    QueuedOut,
    StatusIn,
    TelegramIn,
)
from hyperoru.ratelimit.dependencies import MINUTE, spend
from hyperoru.ratelimit.limiter import Budget
from hyperoru.timeutils import utcnow

bot_router = APIRouter(prefix="/api/bot", tags=["bots"])
bots_router = APIRouter(prefix="/api/bots", tags=["bots"])
inbound_router = APIRouter(prefix="/api/bots", tags=["bots"])
# Test messages go to real chats: a few a minute per user is plenty for checking a bot.
TEST_MESSAGES = Budget("bot_test", 5, MINUTE, exact=True)


def _binding_out(row: ChatBinding) -> BindingOut:
    return BindingOut.model_validate(row, from_attributes=True)


@bot_router.get("/configs", response_model=list[ConfigOut])
async def list_configs(user: CurrentUser, db: DbSession, bots: Bots) -> list[ConfigOut]:
    rows = {p: await service.config_of(db, user.id, p) for p in ("telegram", "discord")}
    return [service.config_out(row, p, bots.platforms.public_url) for p, row in rows.items()]


@bot_router.get("/config/{platform}", response_model=ConfigOut)
async def read_config(
    platform: Platform, user: CurrentUser, db: DbSession, bots: Bots
) -> ConfigOut:
    row = await service.config_of(db, user.id, platform)
    return service.config_out(row, platform, bots.platforms.public_url)


@bot_router.delete("/config/{platform}", response_model=OkOut)
async def delete_config(platform: Platform, user: CurrentUser, db: DbSession) -> OkOut:
    await service.delete_config(db, user_id=user.id, platform=platform)
    return OkOut()


@bot_router.post("/config", response_model=OkOut)
async def save_config(data: ConfigIn, user: CurrentUser, db: DbSession, bots: Bots) -> OkOut:
    await service.save_config(db, bots.box, bots.platforms, user_id=user.id, data=data)
    return OkOut()


@bot_router.put("/status", response_model=OkOut)
async def set_status(data: StatusIn, user: CurrentUser, db: DbSession) -> OkOut:
    await service.set_enabled(db, user_id=user.id, enabled=data.enabled)
    return OkOut()


@bot_router.get("/notification-config", response_model=NotificationConfig)
async def read_notification_config(user: CurrentUser, db: DbSession) -> NotificationConfig:
    return service.notification_config(await service.read_preferences(db, user.id))


@bot_router.put("/notification-config", response_model=NotificationConfig)
async def update_notification_config(
    data: NotificationConfigIn, user: CurrentUser, db: DbSession
) -> NotificationConfig:
    saved = await service.update_preferences(db, user_id=user.id, data=data)
    return service.notification_config(saved)


@bot_router.get("/bindings", response_model=list[BindingOut])
async def list_bindings(user: CurrentUser, db: DbSession) -> list[BindingOut]:
    return [_binding_out(row) for row in await service.list_bindings(db, user.id)]


@bot_router.post("/bindings", status_code=201, response_model=BindingOut)
async def create_binding(data: BindingIn, user: CurrentUser, db: DbSession) -> BindingOut:
    return _binding_out(await service.create_binding(db, user_id=user.id, data=data))


@bot_router.patch("/bindings/{binding_id}", response_model=BindingOut)
async def update_binding(
    binding_id: ResourceId, data: BindingUpdate, user: CurrentUser, db: DbSession
) -> BindingOut:
    row = await service.update_binding(db, user_id=user.id, binding_id=binding_id, data=data)
    return _binding_out(row)


@bot_router.delete("/bindings/{binding_id}", response_model=OkOut)
async def delete_binding(binding_id: ResourceId, user: CurrentUser, db: DbSession) -> OkOut:
    await service.delete_binding(db, user_id=user.id, binding_id=binding_id)
    return OkOut()


@bot_router.post("/link-codes", status_code=201, response_model=LinkCodeOut)
async def create_link_code(data: LinkCodeIn, user: CurrentUser, db: DbSession) -> LinkCodeOut:
    code, expires = await service.create_link_code(
        db, user_id=user.id, platform=data.platform, trader_ids=data.trader_ids
    )
    return LinkCodeOut(
        code=code, platform=data.platform, command=f"/start {code}", expires_at=expires
    )


@bot_router.get("/outbox", response_model=list[OutboxOut])
async def list_outbox(user: CurrentUser, db: DbSession, window: ListWindowQuery) -> list[OutboxOut]:
    rows = await service.recent_outbox(db, user.id, limit=window.limit, offset=window.offset)
    return [OutboxOut.model_validate(row, from_attributes=True) for row in rows]


@bots_router.post("/telegram", response_model=ConfigOut)
async def connect_telegram(
    data: TelegramIn, user: CurrentUser, db: DbSession, bots: Bots
) -> ConfigOut:
    config = ConfigIn(platform="telegram", bot_token=data.bot_token, chat_id=data.chat_id)
    row = await service.save_config(db, bots.box, bots.platforms, user_id=user.id, data=config)
    return service.config_out(row, "telegram", bots.platforms.public_url)


@bots_router.post("/discord", response_model=ConfigOut)
async def connect_discord(
    data: DiscordIn, user: CurrentUser, db: DbSession, bots: Bots
) -> ConfigOut:
    config = ConfigIn(platform="discord", **data.model_dump())
    row = await service.save_config(db, bots.box, bots.platforms, user_id=user.id, data=config)
    return service.config_out(row, "discord", bots.platforms.public_url)


@bots_router.post("/{platform}/test", status_code=202, response_model=QueuedOut)
async def send_test_message(
    platform: Platform, request: Request, user: CurrentUser, db: DbSession
) -> QueuedOut:
    """One short message to every active chat of the caller's bot on ``platform``."""
    await spend(request, TEST_MESSAGES, str(user.id))
    queued = await service.queue_test_messages(db, user_id=user.id, platform=platform)
    return QueuedOut(platform=platform, queued=queued)


@inbound_router.post("/telegram/webhook", response_model=OkOut)
async def telegram_webhook(
    request: Request,
    db: DbSession,
    bots: Bots,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> OkOut:
    """Telegram's POST of an update; refused (403) without the bot's secret header."""
    try:
        update: Any = await request.json()
    except ValueError:
        update = None
    await inbound.telegram_webhook(db, bots.desk, secret=secret, update=update, now=utcnow())
    return OkOut()


@inbound_router.post(
    "/discord/interactions/{config_id}",
    response_model=InteractionOut,
    response_model_exclude_none=True,
)
async def discord_interactions(
    config_id: ResourceId,
    request: Request,
    db: DbSession,
    bots: Bots,
    signature: Annotated[str | None, Header(alias="X-Signature-Ed25519")] = None,
    timestamp: Annotated[str | None, Header(alias="X-Signature-Timestamp")] = None,
) -> InteractionOut:
    """Discord's signed interactions (slash commands) for the bot of ``config_id``."""
    body = await request.body()
    return await inbound.discord_interaction(
        db, bots.desk, config_id=config_id, signature=signature, timestamp=timestamp,
        body=body, now=utcnow(),
    )  # fmt: skip
