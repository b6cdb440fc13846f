"""Inbound: the Telegram webhook needs its secret, is idempotent on update_id, and only a
chat linked with /start <code> runs commands; /pause waits for a confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import Api
from tests.notifications.conftest import TELEGRAM_TOKEN
from tests.trading.helpers import Trader, new_trader

WEBHOOK = "/api/bots/telegram/webhook"
_updates = iter(range(1000, 10**6))


@pytest.fixture
def public_url() -> str:
    return "https://hyperoru.example.com"


def _update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id if update_id is not None else next(_updates),
        "message": {"message_id": 1, "chat": {"id": chat_id, "type": "private"}, "text": text},
    }


async def _connect(api: Api, trader: Trader, telegram: FakeTelegram) -> str:
    body = {"bot_token": TELEGRAM_TOKEN, "chat_id": "900"}
    saved = await api.client.post("/api/bots/telegram", json=body, headers=trader.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["bot_token"] == "***masked***"
    assert saved.json()["mode"] == "webhook"
    hook = telegram.webhooks[TELEGRAM_TOKEN]
    assert hook["url"] == "https://hyperoru.example.com/api/bots/telegram/webhook"
    return str(hook["secret_token"])


async def _replies(trader: Trader) -> list[dict[str, Any]]:
    return [m for m in await trader.get("/api/bot/outbox") if m["kind"] == "reply"]


async def _say(api: Api, secret: str, update: dict[str, Any]) -> None:
    answer = await api.client.post(
        WEBHOOK, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
    assert answer.status_code == 200, answer.text


async def test_a_webhook_call_without_the_right_secret_is_refused(
    api: Api, telegram: FakeTelegram
) -> None:
    trader = await new_trader(api)
    secret = await _connect(api, trader, telegram)
    for sent in ({}, {"X-Telegram-Bot-Api-Secret-Token": secret[:-1] + "x"}):
        refused = await api.client.post(WEBHOOK, json=_update(900, "/status"), headers=sent)
        assert refused.status_code == 403
        assert refused.json()["code"] == "BOT_WEBHOOK_FORBIDDEN"
    assert await _replies(trader) == []
    await _say(api, secret, _update(900, "/status"))
    assert len(await _replies(trader)) == 1


async def test_an_unlinked_chat_cannot_run_a_command_and_a_linked_one_must_confirm(
    api: Api, app: FastAPI, telegram: FakeTelegram
) -> None:
    trader = await new_trader(api, name="Alpha")
    secret = await _connect(api, trader, telegram)
    # Chat 900 receives notifications (its id was set through the API) but is not linked.
    await _say(api, secret, _update(900, "/pause Alpha"))
    await _say(api, secret, _update(900, "yes"))
    assert (await trader.get(f"/api/account/{trader.id}"))["is_active"] is True
    await app.state.bot_worker.tick()
    (reply,) = telegram.sent("900")
    assert "This chat is not linked" in reply["text"]

    created = await api.client.post(
        "/api/bot/link-codes", json={"platform": "telegram"}, headers=trader.headers
    )
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    await _say(api, secret, _update(900, "/start wrong-code"))
    await _say(api, secret, _update(900, "/pause Alpha"))
    linking = _update(900, f"/start {code}")
    await _say(api, secret, linking)
    await _say(api, secret, linking)  # Telegram re-sends: handled once
    await _say(api, secret, _update(900, f"/start {code}"))  # a used code links nothing
    bindings = await trader.get("/api/bot/bindings")
    assert [(b["chat_id"], b["linked"]) for b in bindings] == [("900", True)]

    await _say(api, secret, _update(900, "/pause Alpha"))
    assert (await trader.get(f"/api/account/{trader.id}"))["is_active"] is True
    await _say(api, secret, _update(900, "yes"))
    assert (await trader.get(f"/api/account/{trader.id}"))["is_active"] is False
    await _say(api, secret, _update(900, "/resume Alpha"))
    await _say(api, secret, _update(900, "/confirm"))
    assert (await trader.get(f"/api/account/{trader.id}"))["is_active"] is True

    # 10 different updates handled (the repeated one once), one reply each.
    assert len(await _replies(trader)) == 10


async def test_commands_answer_from_the_traders_of_the_chat(
    api: Api, app: FastAPI, telegram: FakeTelegram
) -> None:
    trader = await new_trader(api, name="Alpha")
    await trader.trade(side="buy", quantity=0.1, leverage=2)
    secret = await _connect(api, trader, telegram)
    code = (await api.client.post("/api/bot/link-codes", json={}, headers=trader.headers)).json()[
        "code"
    ]
    await _say(api, secret, _update(31, f"/start {code}"))
    for command in ("/status", "/positions", "/pnl"):
        await _say(api, secret, _update(31, command))
    worker, clock = app.state.bot_worker, app.state.bots_clock
    for _ in range(6):
        await worker.tick()
        clock.advance(1)
    texts = [m["text"] for m in telegram.sent("31")]
    assert texts[0].startswith("<b>Chat linked</b>")
    assert f"Alpha (#{trader.id}): active" in texts[1]
    assert "Alpha: BTC long 0.1 @ 50010" in texts[2]
    assert "Total PnL" in texts[3]
