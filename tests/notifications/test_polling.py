"""Long polling, the default without HYPERORU_PUBLIC_URL: updates are read with
getUpdates from the stored offset and each handled once."""

from __future__ import annotations

from fastapi import FastAPI

from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.notifications.conftest import TELEGRAM_TOKEN
from tests.trading.helpers import new_trader


async def test_polling_handles_each_update_once(
    api: Api, app: FastAPI, telegram: FakeTelegram
) -> None:
    trader = await new_trader(api)
    body = {"platform": "telegram", "bot_token": TELEGRAM_TOKEN}
    assert (await api.client.post("/api/bot/config", json=body, headers=trader.headers)).is_success
    config = await trader.get("/api/bot/config/telegram")
    assert (config["mode"], config["bot_token"], config["connected"]) == (
        "polling", "***masked***", True
    )  # fmt: skip
    assert TELEGRAM_TOKEN not in str(config)
    assert config["webhook_url"] is None  # Telegram has none; Discord's is masked too
    update = {"update_id": 7, "message": {"chat": {"id": 5}, "text": "/status"}}
    telegram.queue_update(TELEGRAM_TOKEN, update)
    poller = app.state.bot_poller
    assert await poller.tick() == 1
    assert await poller.tick() == 0  # the offset moved past it
    offsets = [c.payload["offset"] for c in telegram.calls if c.method == "getUpdates"]
    assert offsets == [0, 8]
    replies = [m for m in await trader.get("/api/bot/outbox") if m["kind"] == "reply"]
    assert len(replies) == 1


async def test_a_refused_token_is_not_stored(api: Api) -> None:
    trader = await new_trader(api)
    body = {"platform": "telegram", "bot_token": "99:not-a-real-token-aaaaaaaaaaaaaaaa"}
    refused = await api.client.post("/api/bot/config", json=body, headers=trader.headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "BOT_TOKEN_INVALID"
    assert (await trader.get("/api/bot/configs")) == [
        {"platform": "telegram", "connected": False, "chat_id": None, "bot_token": None,
         "bot_username": None, "guild_id": None, "mode": None, "webhook_url": None,
         "interactions_url": None},
        {"platform": "discord", "connected": False, "chat_id": None, "bot_token": None,
         "bot_username": None, "guild_id": None, "mode": None, "webhook_url": None,
         "interactions_url": None},
    ]  # fmt: skip
