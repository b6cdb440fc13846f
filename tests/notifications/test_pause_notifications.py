"""Every path that stops a running trader tells its chats once, with who or what paused
it: the owner through the API, a /pause chat command, the kill switch (one trader or all),
the runtime after repeated failures, the live daily-loss limit. Only chats bound to that
trader hear it; pausing a paused trader tells nothing; preferences off tell nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hyperoru.notifications.models import OutboxMessage
from hyperoru.runtime import leases
from hyperoru.timeutils import utcnow
from hyperoru.trading.live.models import LiveAccountSnapshot
from tests.accounts.helpers import create_trader
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.live.helpers import live_client, set_fields
from tests.notifications.conftest import DISCORD_TOKEN, TELEGRAM_TOKEN, BotClock
from tests.trading.helpers import Trader, new_trader

WEBHOOK = "/api/bots/telegram/webhook"
ALPHA_CHAT, BETA_CHAT, DISCORD_CHANNEL = "111", "222", "333000111"
_updates = iter(range(5000, 10**6))


@pytest.fixture
def public_url() -> str:
    return "https://hyperoru.example.com"  # webhook mode, so a test can speak as the chat


@dataclass
class Desk:
    """A user with traders Alpha and Beta; Telegram chat 111 and a Discord channel are
    bound to Alpha only, Telegram chat 222 to Beta only."""

    app: FastAPI
    api: Api
    alpha: Trader
    beta_id: int
    secret: str

    async def put(self, path: str, body: dict[str, Any]) -> None:
        answer = await self.api.client.put(path, json=body, headers=self.alpha.headers)
        assert answer.status_code == 200, answer.text

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.api.client.post(path, json=body, headers=self.alpha.headers)
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def say(self, chat: str, text: str) -> None:
        update = {
            "update_id": next(_updates),
            "message": {"message_id": 1, "chat": {"id": int(chat)}, "text": text},
        }
        answer = await self.api.client.post(
            WEBHOOK, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": self.secret}
        )
        assert answer.status_code == 200, answer.text

    async def paused_messages(self) -> list[tuple[str, str, str]]:
        """(platform, chat, text) of every "trader paused" message in the outbox."""
        async with self.app.state.services.sessionmaker() as session:
            rows = await session.execute(
                select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.text)
                .where(OutboxMessage.kind == "paused")
                .order_by(OutboxMessage.id)
            )
            return [(p, c, _plain_numbers(t)) for p, c, t in rows.all()]

    async def status(self, account_id: int) -> str:
        account = await self.alpha.get(f"/api/account/{account_id}")
        return str(account["status"])


@pytest.fixture
async def desk(app: FastAPI, api: Api, telegram: FakeTelegram) -> Desk:
    alpha = await new_trader(api, name="Alpha")
    beta = await create_trader(api, alpha.token, name="Beta")
    saved = await api.client.post(
        "/api/bots/telegram", json={"bot_token": TELEGRAM_TOKEN}, headers=alpha.headers
    )
    assert saved.status_code == 200, saved.text
    discord = {"platform": "discord", "bot_token": DISCORD_TOKEN}
    saved = await api.client.post("/api/bot/config", json=discord, headers=alpha.headers)
    assert saved.status_code == 200, saved.text
    d = Desk(app, api, alpha, beta["id"], str(telegram.webhooks[TELEGRAM_TOKEN]["secret_token"]))
    # Chat 111 is linked for commands (scoped to Alpha by its code); the others only receive.
    code = await d.post("/api/bot/link-codes", {"platform": "telegram", "trader_ids": [alpha.id]})
    await d.say(ALPHA_CHAT, f"/start {code['code']}")
    for platform, chat, trader in (
        ("telegram", BETA_CHAT, beta["id"]),
        ("discord", DISCORD_CHANNEL, alpha.id),
    ):
        await d.post(
            "/api/bot/bindings", {"platform": platform, "chat_id": chat, "trader_ids": [trader]}
        )
    return d


async def _by_owner_turning_trading_off(d: Desk) -> None:
    await d.put(f"/api/account/{d.alpha.id}", {"auto_trading_enabled": False})


async def _by_owner_deactivating(d: Desk) -> None:
    await d.put(f"/api/account/{d.alpha.id}", {"is_active": False})


async def _by_chat_command(d: Desk) -> None:
    await d.say(ALPHA_CHAT, "/pause Alpha")
    await d.say(ALPHA_CHAT, "yes")


async def _by_kill_switch(d: Desk) -> None:
    await d.post(f"/api/account/{d.alpha.id}/kill")


async def _by_failures(d: Desk) -> None:
    for _ in range(leases.PAUSE_AFTER_FAILURES):
        async with d.app.state.services.sessionmaker() as session:
            await leases.record_outcome(
                session, account_id=d.alpha.id, ok=False, error="model <timeout>"
            )


async def _by_daily_loss(d: Desk) -> None:
    await set_fields(d.app, d.alpha, execution_mode="live", max_daily_loss=Decimal(100))
    now = utcnow()
    async with d.app.state.services.sessionmaker() as session:
        if await session.get(LiveAccountSnapshot, d.alpha.id) is None:
            session.add(
                LiveAccountSnapshot(
                    account_id=d.alpha.id, venue="hyperliquid", equity=Decimal(9850),
                    available=Decimal(9850), margin_used=Decimal(0),
                    unrealized_pnl=Decimal(0), positions=[], taken_at=now,
                    fills_since=now, funding_since=now, day_start=now,
                    day_start_equity=Decimal(10000),
                )
            )  # fmt: skip
            await session.commit()
    await live_client(d.app).enforce_daily_loss(d.alpha.id)


PauseAction = Callable[[Desk], Awaitable[None]]
PATHS: dict[str, tuple[PauseAction, str, str]] = {
    "owner_trading_off": (_by_owner_turning_trading_off, "Paused by its owner", "paused"),
    "owner_deactivates": (_by_owner_deactivating, "Paused by its owner", "paused"),
    "chat_command": (_by_chat_command, "Paused by a /pause chat command", "paused"),
    "kill_switch": (_by_kill_switch, "Paused by the kill switch", "paused"),
    "failures": (
        _by_failures,
        "Paused by Hyperoru after repeated failed cycles\npaused after "
        f"{leases.PAUSE_AFTER_FAILURES} failed cycles in a row; last error: model &lt;timeout&gt;",
        "error",
    ),
    "daily_loss": (
        _by_daily_loss,
        "Paused by its daily loss limit\npaused: today's loss 150 reached max_daily_loss 100",
        "error",
    ),
}


def _plain_numbers(text: str) -> str:
    # PostgreSQL's numeric keeps its scale in the daily-loss reason ("150.000…"): trading's
    # wording, not this test's subject.
    return re.sub(r"(\d+)\.0+\b", r"\1", text)


async def _drain(app: FastAPI, clock: BotClock) -> None:
    """Tick the delivery worker until the outbox is empty (each chat takes one a second)."""
    worker = app.state.bot_worker
    for _ in range(30):
        await worker.tick()
        clock.advance(2.5)


@pytest.mark.parametrize("path", list(PATHS))
async def test_each_pause_path_tells_the_traders_chats_once_with_its_reason(
    path: str,
    desk: Desk,
    telegram: FakeTelegram,
    discord: FakeDiscord,
    bot_clock: BotClock,
) -> None:
    pause, reason, status = PATHS[path]
    await pause(desk)
    assert await desk.status(desk.alpha.id) == status
    telegram_text = f"<b>Trader paused: Alpha</b>\n{reason}"
    discord_text = f"**Trader paused: Alpha**\n{reason}".replace("&lt;", "<").replace("&gt;", ">")
    assert await desk.paused_messages() == [
        ("telegram", ALPHA_CHAT, telegram_text),
        ("discord", DISCORD_CHANNEL, discord_text),
    ]

    await pause(desk)  # the same pause again: the trader is already stopped
    await _by_owner_turning_trading_off(desk)
    await _by_kill_switch(desk)
    assert len(await desk.paused_messages()) == 2

    await _drain(desk.app, bot_clock)
    told = [
        _plain_numbers(m["text"]) for m in telegram.sent(ALPHA_CHAT) if "Trader paused" in m["text"]
    ]
    assert told == [telegram_text]
    assert [
        _plain_numbers(m["content"]) for m in discord.messages if "Trader paused" in m["content"]
    ] == [discord_text]
    assert telegram.sent(BETA_CHAT) == []  # Beta's chat hears nothing of Alpha


async def test_the_user_kill_switch_tells_each_trader_in_its_own_chat(desk: Desk) -> None:
    await desk.post("/api/users/kill")
    paused = [(chat, text.split("\n")[0]) for _, chat, text in await desk.paused_messages()]
    assert sorted(paused) == sorted(
        [
            (ALPHA_CHAT, "<b>Trader paused: Alpha</b>"),
            (DISCORD_CHANNEL, "**Trader paused: Alpha**"),
            (BETA_CHAT, "<b>Trader paused: Beta</b>"),
        ]
    )
    await desk.post("/api/users/kill")
    assert len(await desk.paused_messages()) == 3


async def test_a_resume_tells_nothing_and_the_next_pause_is_told_again(desk: Desk) -> None:
    await _by_owner_turning_trading_off(desk)
    await desk.put(f"/api/account/{desk.alpha.id}", {"auto_trading_enabled": True})
    assert await desk.status(desk.alpha.id) == "active"
    assert len(await desk.paused_messages()) == 2
    await _by_kill_switch(desk)
    assert len(await desk.paused_messages()) == 4
    async with desk.app.state.services.sessionmaker() as session:
        kinds = set(await session.scalars(select(OutboxMessage.kind)))
    assert kinds <= {"paused", "reply"}  # nothing of kind "resumed" or the like


@pytest.mark.parametrize(
    "preferences",
    [{"paused_notifications": False}, {"enabled": False}],
    ids=["paused_off", "all_off"],
)
async def test_with_pause_notifications_off_no_path_tells_anything(
    desk: Desk, preferences: dict[str, bool]
) -> None:
    if "enabled" in preferences:
        await desk.put("/api/bot/status", preferences)
    else:
        await desk.put("/api/bot/notification-config", preferences)
    await _by_owner_turning_trading_off(desk)
    await desk.put(f"/api/account/{desk.alpha.id}", {"auto_trading_enabled": True})
    await _by_kill_switch(desk)
    assert await desk.status(desk.alpha.id) == "paused"
    assert await desk.paused_messages() == []


async def test_a_binding_turned_off_hears_nothing(desk: Desk) -> None:
    bindings = await desk.alpha.get("/api/bot/bindings")
    (channel,) = [b for b in bindings if b["chat_id"] == DISCORD_CHANNEL]
    turned_off = await desk.api.client.patch(
        f"/api/bot/bindings/{channel['id']}", json={"enabled": False}, headers=desk.alpha.headers
    )
    assert turned_off.status_code == 200, turned_off.text
    await _by_kill_switch(desk)
    assert [chat for _, chat, _ in await desk.paused_messages()] == [ALPHA_CHAT]


async def test_pauses_at_the_same_time_tell_the_chats_once(desk: Desk) -> None:
    # Every request loads the trader while it still runs; the first to stop it holds it
    # (PostgreSQL's row lock, SQLite's write lock) and the others then find it paused.
    await asyncio.gather(
        _by_owner_turning_trading_off(desk),
        _by_owner_deactivating(desk),
        _by_kill_switch(desk),
        _by_kill_switch(desk),
    )
    assert await desk.status(desk.alpha.id) == "paused"
    assert [chat for _, chat, _ in await desk.paused_messages()] == [ALPHA_CHAT, DISCORD_CHANNEL]
