"""A demo trader's fill becomes exactly one Telegram and one Discord message, escaped."""

from __future__ import annotations

from fastapi import FastAPI

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.notifications.conftest import DISCORD_TOKEN, TELEGRAM_TOKEN, BotClock
from tests.trading.helpers import new_trader

NAME = "Alpha <b>x</b> & @everyone"


async def test_a_fill_sends_one_message_to_each_platform(
    api: Api, app: FastAPI, telegram: FakeTelegram, discord: FakeDiscord, bot_clock: BotClock
) -> None:
    trader = await new_trader(api, name=NAME)
    for body in (
        {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": 5550001},
        {"platform": "discord", "bot_token": DISCORD_TOKEN, "chat_id": "777000111"},
    ):
        saved = await api.client.post("/api/bot/config", json=body, headers=trader.headers)
        assert saved.status_code == 200, saved.text
        assert saved.json() == {"status": "ok"}
    await trader.trade(side="buy", quantity=0.1, leverage=2)
    worker = app.state.bot_worker
    assert await worker.tick() == 2
    bot_clock.advance(5)
    assert await worker.tick() == 0  # nothing twice

    (sent,) = telegram.sent()
    assert sent["chat_id"] == "5550001"
    assert sent["parse_mode"] == "HTML"
    assert sent["text"] == (
        "<b>Trade executed: Alpha &lt;b&gt;x&lt;/b&gt; &amp; @everyone</b>\nBUY 0.1 BTC @ 50010"
    )
    (posted,) = discord.messages
    assert posted["channel"] == "777000111"
    assert posted["allowed_mentions"] == {"parse": []}
    assert posted["content"] == (
        "**Trade executed: Alpha <b>x</b> & @\u200beveryone**\nBUY 0.1 BTC @ 50010"
    )
    outbox = (await api.client.get("/api/bot/outbox", headers=trader.headers)).json()
    assert sorted((m["platform"], m["status"], m["kind"]) for m in outbox) == [
        ("discord", "sent", "trade"),
        ("telegram", "sent", "trade"),
    ]


async def test_closing_a_position_tells_its_pnl_and_the_threshold_holds_small_ones(
    api: Api, app: FastAPI, telegram: FakeTelegram
) -> None:
    trader = await new_trader(api, name="Closer")
    body = {"platform": "telegram", "bot_token": TELEGRAM_TOKEN, "chat_id": "42"}
    assert (await api.client.post("/api/bot/config", json=body, headers=trader.headers)).is_success
    await trader.trade(side="buy", quantity=0.1, leverage=2)
    await trader.trade(side="sell", quantity=0.1, leverage=2, reduce_only=True)
    await app.state.bot_worker.tick()
    kinds = [m["kind"] for m in (await trader.get("/api/bot/outbox"))]
    assert sorted(kinds) == ["position_closed", "trade", "trade"]
    closed = next(m for m in await trader.get("/api/bot/outbox") if m["kind"] == "position_closed")
    assert closed["status"] in ("sent", "pending")  # one per chat per second

    threshold = {"min_pnl_threshold": 1_000_000, "trade_notifications": False}
    changed = await api.client.put(
        "/api/bot/notification-config", json=threshold, headers=trader.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["min_pnl_threshold"] == 1_000_000
    await trader.trade(side="buy", quantity=0.1, leverage=2)
    await trader.trade(side="sell", quantity=0.1, leverage=2, reduce_only=True)
    assert len(await trader.get("/api/bot/outbox")) == 3  # nothing new
