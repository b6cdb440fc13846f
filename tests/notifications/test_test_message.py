"""POST /api/bots/{platform}/test: one short message to each active chat of the caller's
bot there, through the outbox and the delivery worker; refused in the contract's shape
without a bot or a chat, and limited to a few a minute per user."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from hyperoru.notifications.router import TEST_MESSAGES
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api, assert_error
from tests.notifications.conftest import DISCORD_TOKEN, TELEGRAM_TOKEN, BotClock
from tests.trading.helpers import Trader, new_trader

TELEGRAM_TEXT = (
    "<b>Hyperoru test message</b>\n"
    "This chat is connected: Hyperoru's notifications will arrive here."
)


async def _save(trader: Trader, body: dict[str, Any]) -> None:
    saved = await trader.api.client.post("/api/bot/config", json=body, headers=trader.headers)
    assert saved.status_code == 200, saved.text


async def _test(trader: Trader, platform: str) -> httpx.Response:
    return await trader.api.client.post(f"/api/bots/{platform}/test", headers=trader.headers)


async def test_a_test_message_reaches_every_active_chat_on_each_platform(
    api: Api, app: FastAPI, telegram: FakeTelegram, discord: FakeDiscord, bot_clock: BotClock
) -> None:
    trader = await new_trader(api)
    await _save(trader, {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": "501"})
    await _save(trader, {"platform": "discord", "bot_token": DISCORD_TOKEN, "chat_id": "9001"})
    for chat in ("502", "503"):
        added = await api.client.post(
            "/api/bot/bindings",
            json={"platform": "telegram", "chat_id": chat},
            headers=trader.headers,
        )
        assert added.status_code == 201, added.text
    off = next(b for b in await trader.get("/api/bot/bindings") if b["chat_id"] == "503")
    turned_off = await api.client.patch(
        f"/api/bot/bindings/{off['id']}", json={"enabled": False}, headers=trader.headers
    )
    assert turned_off.status_code == 200, turned_off.text
    # Silenced notifications do not silence a test the owner asks for.
    await api.client.put("/api/bot/status", json={"enabled": False}, headers=trader.headers)

    queued = await _test(trader, "telegram")
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"platform": "telegram", "queued": 2}
    queued = await _test(trader, "discord")
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"platform": "discord", "queued": 1}
    assert telegram.sent() == [] and discord.messages == []  # only queued so far

    assert await app.state.bot_worker.tick() == 3
    bot_clock.advance(5)
    assert await app.state.bot_worker.tick() == 0
    assert sorted((m["chat_id"], m["text"]) for m in telegram.sent()) == [
        ("501", TELEGRAM_TEXT),
        ("502", TELEGRAM_TEXT),
    ]
    (posted,) = discord.messages
    assert posted["channel"] == "9001"
    assert posted["content"].startswith("**Hyperoru test message**\n")
    outbox = await trader.get("/api/bot/outbox")
    assert sorted((m["kind"], m["status"]) for m in outbox) == [("test", "sent")] * 3


async def test_without_a_bot_or_a_chat_the_answer_says_why(
    api: Api, telegram: FakeTelegram
) -> None:
    trader = await new_trader(api)
    assert_error(await _test(trader, "telegram"), 404, "BOT_CONFIG_NOT_FOUND")
    await _save(trader, {"platform": "telegram", "bot_token": TELEGRAM_TOKEN})
    assert_error(await _test(trader, "telegram"), 409, "BOT_NO_CHAT")
    assert_error(await _test(trader, "discord"), 404, "BOT_CONFIG_NOT_FOUND")
    assert_error(await _test(trader, "slack"), 400, "VALIDATION_ERROR")
    # Another user's bot is not the caller's.
    other = await new_trader(api)
    await _save(other, {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": "7"})
    assert (await _test(other, "telegram")).status_code == 202
    assert_error(await _test(trader, "telegram"), 409, "BOT_NO_CHAT")
    assert await trader.get("/api/bot/outbox") == []


async def test_test_messages_are_rate_limited_per_user(api: Api, telegram: FakeTelegram) -> None:
    trader = await new_trader(api)
    await _save(trader, {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": "61"})
    for _ in range(TEST_MESSAGES.amount):
        assert (await _test(trader, "telegram")).status_code == 202
    refused = assert_error(await _test(trader, "telegram"), 429, "RATE_LIMITED")
    assert refused["details"]["limit"] == TEST_MESSAGES.amount
    assert len(await trader.get("/api/bot/outbox")) == TEST_MESSAGES.amount
    other = await new_trader(api)  # another user's budget is their own
    await _save(other, {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": "62"})
    assert (await _test(other, "telegram")).status_code == 202
