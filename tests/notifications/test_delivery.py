"""The delivery worker: a burst of 200 survives a crash and two workers, each message
sent once and within the platform's limits; 429 waits its retry_after; a blocked bot or a
deleted chat disables that binding, shown in the API."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise

from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.notifications.delivery import DeliveryWorker, prune
from hyperoru.notifications.messages import Message
from hyperoru.notifications.models import ChatBinding, OutboxMessage
from hyperoru.notifications.outbox import add_messages
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.notifications.conftest import DISCORD_TOKEN, TELEGRAM_TOKEN, BotClock
from tests.trading.helpers import Trader, new_trader

CHATS = [str(1000 + n) for n in range(10)]


def _worker(app: FastAPI, name: str) -> DeliveryWorker:
    base: DeliveryWorker = app.state.bot_worker
    return DeliveryWorker(
        base.sessions, base.box, base.telegram, base.discord, owner=name, clock=base.clock,
        lease_seconds=30,
    )  # fmt: skip


async def _telegram_chats(api: Api, trader: Trader, chats: list[str]) -> None:
    body = {"platform": "telegram", "bot_token": TELEGRAM_TOKEN}
    assert (await api.client.post("/api/bot/config", json=body, headers=trader.headers)).is_success
    for chat in chats:
        bound = await api.client.post(
            "/api/bot/bindings", json={"platform": "telegram", "chat_id": chat},
            headers=trader.headers,
        )  # fmt: skip
        assert bound.status_code == 201, bound.text


async def _queue(app: FastAPI, user_id: int, count: int) -> None:
    async with app.state.services.sessionmaker() as session:
        bindings = list(
            await session.scalars(select(ChatBinding).where(ChatBinding.user_id == user_id))
        )
        for n in range(count):
            binding = bindings[n % len(bindings)]
            add_messages(session, [binding], "trade", Message(f"message {n}"))
        await session.commit()


async def test_a_burst_survives_a_crash_and_two_workers_exactly_once_within_limits(
    api: Api, app: FastAPI, telegram: FakeTelegram, bot_clock: BotClock
) -> None:
    trader = await new_trader(api)
    await _telegram_chats(api, trader, CHATS)
    await _queue(app, trader.user["id"], 200)

    first = _worker(app, "first")
    for _ in range(3):
        await first.tick()
        bot_clock.advance(1)
    crashed = await first.claim()  # leased, then the process dies before sending
    assert len(crashed) == len(CHATS)
    telegram.fail_next(429, retry_after=3)  # and the platform slows us down once

    second, third = _worker(app, "second"), _worker(app, "third")
    for _ in range(400):
        await second.tick()
        await third.tick()
        bot_clock.advance(0.25)
    texts = [m["text"] for m in telegram.sent()]
    assert Counter(texts).most_common(1)[0][1] == 1  # nothing twice
    assert sorted(texts) == sorted(f"<b>message {n}</b>" for n in range(200))  # nothing lost

    async with app.state.services.sessionmaker() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.sent_at)))
    assert {r.status for r in rows} == {"sent"}
    by_chat: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    for chat_rows in by_chat.values():  # one message per chat per second
        for earlier, later in pairwise(chat_rows):
            assert later.sent_at is not None and earlier.sent_at is not None
            assert later.sent_at - earlier.sent_at >= timedelta(seconds=1)
    times = [r.sent_at for r in rows if r.sent_at is not None]
    for at in times:  # at most 25 per second for the bot
        assert sum(1 for t in times if at <= t < at + timedelta(seconds=1)) <= 25
    # The crashed worker's leases were taken over only once they ran out.
    crashed_rows = [r for r in rows if r.id in crashed]
    assert all(r.sent_at is not None and r.sent_at >= r.created_at for r in crashed_rows)


async def test_429_holds_the_bot_back_for_its_retry_after(
    api: Api, app: FastAPI, telegram: FakeTelegram, bot_clock: BotClock
) -> None:
    trader = await new_trader(api)
    await _telegram_chats(api, trader, ["1", "2"])
    await _queue(app, trader.user["id"], 2)
    telegram.fail_next(429, retry_after=5)
    worker = app.state.bot_worker
    assert await worker.tick() == 0  # the first send was limited: the bot now waits
    bot_clock.advance(4.9)
    assert await worker.tick() == 0
    assert len(telegram.sent()) == 0
    bot_clock.advance(0.2)
    assert await worker.tick() == 2


async def test_a_server_error_is_retried_with_backoff(
    api: Api, app: FastAPI, telegram: FakeTelegram, bot_clock: BotClock
) -> None:
    trader = await new_trader(api)
    await _telegram_chats(api, trader, ["1"])
    await _queue(app, trader.user["id"], 1)
    telegram.fail_next(500, times=2)
    worker = app.state.bot_worker
    assert await worker.tick() == 0  # attempt 1 fails: next in 2 s
    bot_clock.advance(1.5)
    assert await worker.tick() == 0
    bot_clock.advance(1)
    assert await worker.tick() == 0  # attempt 2 fails: next in 4 s
    bot_clock.advance(4.5)
    assert await worker.tick() == 1
    (row,) = await trader.get("/api/bot/outbox")
    assert (row["status"], row["attempts"]) == ("sent", 3)


async def test_a_blocked_bot_and_a_deleted_channel_disable_their_binding(
    api: Api, app: FastAPI, telegram: FakeTelegram, discord: FakeDiscord
) -> None:
    trader = await new_trader(api)
    await _telegram_chats(api, trader, ["11", "12"])
    body = {"platform": "discord", "bot_token": DISCORD_TOKEN, "chat_id": "555"}
    assert (await api.client.post("/api/bot/config", json=body, headers=trader.headers)).is_success
    telegram.blocked.add("11")
    discord.deleted.add("555")
    await _queue(app, trader.user["id"], 3)
    await app.state.bot_worker.tick()
    bindings = {b["chat_id"]: b for b in await trader.get("/api/bot/bindings")}
    assert bindings["11"]["status"] == "disabled"
    assert "blocked by the user" in bindings["11"]["disabled_reason"]
    assert bindings["555"]["status"] == "disabled"
    assert "Unknown Channel" in bindings["555"]["disabled_reason"]
    assert bindings["12"]["status"] == "active"
    statuses = Counter(m["status"] for m in await trader.get("/api/bot/outbox"))
    assert statuses == {"dead": 2, "sent": 1}
    # A disabled chat receives nothing more until its owner turns it on again.
    await _queue(app, trader.user["id"], 0)
    enabled = await api.client.patch(
        f"/api/bot/bindings/{bindings['11']['id']}", json={"enabled": True}, headers=trader.headers
    )
    assert enabled.json()["status"] == "active"


async def test_a_discord_channel_webhook_gets_messages_without_mentions(
    api: Api, app: FastAPI, discord: FakeDiscord
) -> None:
    trader = await new_trader(api)
    url = discord.add_webhook("123456", "webhook-token-abcdefghijklmnopqrstuvwxyz")
    saved = await api.client.post(
        "/api/bots/discord", json={"webhook_url": url}, headers=trader.headers
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["webhook_url"] == "***masked***"
    await _queue(app, trader.user["id"], 1)
    assert await app.state.bot_worker.tick() == 1
    (posted,) = discord.messages
    assert posted == {
        "webhook": "123456", "content": "**message 0**", "allowed_mentions": {"parse": []}
    }  # fmt: skip


async def test_finished_messages_are_forgotten_after_two_weeks(
    api: Api, app: FastAPI, bot_clock: BotClock
) -> None:
    trader = await new_trader(api)
    await _telegram_chats(api, trader, ["1", "2"])
    await _queue(app, trader.user["id"], 3)
    assert await app.state.bot_worker.tick() == 2
    sessions = app.state.services.sessionmaker
    await prune(sessions, bot_clock.advance(60))
    assert len(await trader.get("/api/bot/outbox")) == 3  # recent: kept
    await prune(sessions, bot_clock.advance(15 * 24 * 3600))
    (left,) = await trader.get("/api/bot/outbox")
    assert left["status"] == "pending"  # never a message still to send
