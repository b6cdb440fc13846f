"""The bots page against the loopback fake Telegram: a refused token shows the API's
message, a good one connects and is never shown back, a chat links with the one-time
code the page shows (the fake hands the bot "/start <code>"), the bot's reply appears in
the delivery log, and the notification preferences survive a reload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hyperoru.timeutils import utcnow
from tests.dashboard.conftest import Browser, Demo, open_page, sign_in
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.notifications.conftest import (  # noqa: F401 (fixtures)
    DISCORD_TOKEN,
    TELEGRAM_TOKEN,
    discord,
    telegram,
)

pytestmark = pytest.mark.browser

CHAT = "4242"


@pytest.fixture
def demo_settings(
    telegram: FakeTelegram,  # noqa: F811
    discord: FakeDiscord,  # noqa: F811
) -> dict[str, Any]:
    # The bots' loops stay off (HYPERORU_BOTS=off): the test ticks the poller and the
    # delivery worker itself.
    return {"telegram_api_url": telegram.base_url, "discord_api_url": discord.base_url}


async def _api(demo: Demo, path: str) -> Any:
    headers = demo.server.api.bearer(await demo.token())
    return (await demo.server.http.get(path, headers=headers)).json()


async def test_connect_telegram_link_a_chat_and_see_the_reply_delivered(
    demo: Demo,
    browser: Browser,
    telegram: FakeTelegram,  # noqa: F811
) -> None:
    traders = await _api(demo, "/api/account/list")
    page, watch = await browser.page()
    watch.allowed_statuses.add(422)  # Chromium logs the refused token as a failed load
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/bots", "bots")

    form = page.locator("#telegram-form")
    await form.get_by_label("Bot token").fill("99:not-a-real-token-aaaaaaaaaaaaaaaa")
    await form.get_by_role("button", name="Connect Telegram").click()
    await form.get_by_role("alert").filter(has_text="token").wait_for()
    assert (await _api(demo, "/api/bot/config/telegram"))["connected"] is False

    await form.get_by_label("Bot token").fill(TELEGRAM_TOKEN)
    await form.get_by_role("button", name="Connect Telegram").click()
    card = page.locator('#telegram-bot[data-connected="true"]')
    await card.get_by_text("hyperoru_test_bot").wait_for()
    await card.get_by_text("stored (hidden)").wait_for()
    assert await card.get_by_label("Bot token").input_value() == ""
    assert TELEGRAM_TOKEN not in await page.content()  # write-only: never shown back

    link = page.locator("#link-form")
    await link.get_by_label("Traders (none chosen: all)").select_option(str(traders[0]["id"]))
    await link.get_by_role("button", name="Create link code").click()
    command = await page.locator("#link-code .link-code").inner_text()
    assert command.startswith("/start ")
    telegram.queue_update(
        TELEGRAM_TOKEN, {"update_id": 1, "message": {"chat": {"id": int(CHAT)}, "text": command}}
    )
    assert await demo.server.app.state.bot_poller.tick() == 1

    # The page watches for the chat while its code waits.
    await page.locator("#link-code").get_by_text(f"Chat {CHAT} linked on telegram.").wait_for()
    row = page.locator(f'#bot-chats tr[data-status="active"]:has-text("{CHAT}")')
    await row.get_by_text("linked: may run commands").wait_for()
    await row.get_by_text(traders[0]["name"]).wait_for()
    (binding,) = await _api(demo, "/api/bot/bindings")
    assert (binding["chat_id"], binding["linked"], binding["trader_ids"]) == (
        CHAT,
        True,
        [traders[0]["id"]],
    )

    assert await demo.server.app.state.bot_worker.tick() == 1
    (reply,) = telegram.sent(CHAT)
    assert "Chat linked" in reply["text"]
    await page.get_by_role("button", name="Refresh the log").click()
    await page.locator('#bot-outbox tr[data-status="sent"]').get_by_text("reply").wait_for()

    # A test message goes to the linked chat through the outbox and its worker.
    await page.get_by_role("button", name="Send a test message").click()
    await page.get_by_text("Test message queued for 1 chat").wait_for()
    worker = demo.server.app.state.bot_worker
    # The chat had a message a moment ago: step the worker's clock past its 1 s interval
    # rather than wait for it.
    worker.clock = lambda: utcnow() + timedelta(seconds=5)
    assert await worker.tick() == 1
    (_, test) = telegram.sent(CHAT)
    assert "Hyperoru test message" in test["text"]

    await page.get_by_role("button", name="Disconnect Telegram").click()
    await page.locator('#telegram-bot[data-connected="false"]').wait_for()
    assert (await _api(demo, "/api/bot/config/telegram"))["connected"] is False
    await page.get_by_text("No chats yet.").wait_for()  # its chats went with it


async def test_connect_discord_with_a_bot_token_and_channel(
    demo: Demo,
    browser: Browser,
    discord: FakeDiscord,  # noqa: F811
) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/bots", "bots")
    form = page.locator("#discord-form")
    await form.get_by_label("Bot token (optional)").fill(DISCORD_TOKEN)
    await form.get_by_label("Channel id").fill("555")
    await form.get_by_role("button", name="Connect Discord").click()
    card = page.locator('#discord-bot[data-connected="true"]')
    await card.get_by_text("hyperoru-discord").wait_for()
    await card.get_by_text("stored (hidden)").wait_for()
    assert DISCORD_TOKEN not in await page.content()
    config = await _api(demo, "/api/bot/config/discord")
    assert (config["connected"], config["chat_id"]) == (True, "555")
    assert discord.calls  # the token was checked with Discord before it was stored


async def test_a_receive_only_chat_is_added_disabled_and_removed(
    demo: Demo, browser: Browser
) -> None:
    page, watch = await browser.page()
    watch.allowed_statuses.add(404)  # the chat refused while no bot is connected
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/bots", "bots")
    form = page.locator("#chat-add-form")
    await form.get_by_label("Chat id").fill("777")
    await form.get_by_role("button", name="Add receive-only chat").click()
    await form.get_by_role("alert").filter(has_text="Configure the bot").wait_for()

    headers = demo.server.api.bearer(await demo.token())
    connected = await demo.server.http.post(
        "/api/bots/telegram", json={"bot_token": TELEGRAM_TOKEN}, headers=headers
    )
    assert connected.is_success
    await form.get_by_role("button", name="Add receive-only chat").click()
    row = page.locator('#bot-chats tr:has-text("777")')
    await row.get_by_text("receive only").wait_for()

    await row.get_by_role("button", name="Disable chat 777").click()
    await page.locator('#bot-chats tr[data-status="disabled"]').get_by_text("turned off").wait_for()
    (binding,) = await _api(demo, "/api/bot/bindings")
    assert (binding["chat_id"], binding["linked"], binding["status"]) == ("777", False, "disabled")

    await page.get_by_role("button", name="Remove chat 777").click()
    await page.get_by_text("No chats yet.").wait_for()
    assert await _api(demo, "/api/bot/bindings") == []


async def test_notification_preferences_are_saved_and_shown_after_a_reload(
    demo: Demo, browser: Browser
) -> None:
    page, watch = await browser.page()
    watch.allowed_statuses.add(400)  # the refused time zone
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/bots", "bots")
    form = page.locator("#prefs-form")

    await form.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    await form.get_by_role("button", name="Save preferences").click()
    headers = demo.server.api.bearer(await demo.token())
    refused = await demo.server.http.put(
        "/api/bot/notification-config", json={"time_zone": "Mars/Olympus_Mons"}, headers=headers
    )
    assert refused.status_code == 400
    await form.get_by_role("alert").filter(has_text=refused.json()["message"]).wait_for()

    await form.get_by_label("A trade fills").uncheck()
    await form.get_by_label("A signal pool fires").check()
    await form.get_by_label("A daily summary").check()
    await form.get_by_label("Daily summary at").fill("07:30")
    await form.get_by_label("Time zone").fill("Europe/Paris")
    await form.get_by_label("Minimum PnL to tell a closed position").fill("12.5")
    await form.get_by_role("button", name="Save preferences").click()
    await page.locator("#toast").filter(has_text="Preferences saved").wait_for()
    await page.get_by_label("Send notifications at all").uncheck()
    await page.locator("#toast").filter(has_text="Notifications off").wait_for()

    saved = await _api(demo, "/api/bot/notification-config")
    assert saved == {
        "enabled": False,
        "trade_notifications": False,
        "position_closed_notifications": True,
        "signal_notifications": True,
        "error_notifications": True,
        "paused_notifications": True,
        "daily_summary": True,
        "daily_summary_time": "07:30",
        "time_zone": "Europe/Paris",
        "min_pnl_threshold": 12.5,
    }

    await page.reload()
    await page.wait_for_selector('#main[data-page="bots"][data-ready="true"]')
    assert not await page.get_by_label("Send notifications at all").is_checked()
    assert not await form.get_by_label("A trade fills").is_checked()
    assert await form.get_by_label("A signal pool fires").is_checked()
    assert await form.get_by_label("A daily summary").is_checked()
    assert await form.get_by_label("Daily summary at").input_value() == "07:30"
    assert await form.get_by_label("Time zone").input_value() == "Europe/Paris"
    assert await form.get_by_label("Minimum PnL to tell a closed position").input_value() == "12.5"
