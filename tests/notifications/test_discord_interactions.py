"""Discord interactions: Ed25519 over timestamp + body with the bot's public key; a PING
answers PONG, a bad signature 401, and commands need a linked channel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI

from hyperoru.notifications.models import BotConfig
from hyperoru.timeutils import utcnow
from tests.helpers import Api
from tests.notifications.conftest import DISCORD_TOKEN
from tests.trading.helpers import Trader, new_trader

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@pytest.fixture
def public_url() -> str:
    return "https://hyperoru.example.com"


async def _connect(api: Api, trader: Trader) -> str:
    body = {"bot_token": DISCORD_TOKEN, "guild_id": 1234, "public_key": PUBLIC}
    saved = await api.client.post("/api/bots/discord", json=body, headers=trader.headers)
    assert saved.status_code == 200, saved.text
    url = saved.json()["interactions_url"]
    assert url.startswith("https://hyperoru.example.com/api/bots/discord/interactions/")
    return str(url.removeprefix("https://hyperoru.example.com"))


async def _post(api: Api, path: str, payload: dict[str, Any], *, signed_by: Any = KEY) -> Any:
    body = json.dumps(payload).encode()
    stamp = str(int(utcnow().timestamp()))
    signature = signed_by.sign(stamp.encode() + body).hex()
    return await api.client.post(
        path, content=body,
        headers={"Content-Type": "application/json", "X-Signature-Ed25519": signature,
                 "X-Signature-Timestamp": stamp},
    )  # fmt: skip


def _command(name: str, channel: str, **options: Any) -> dict[str, Any]:
    data = {"name": name, "options": [{"name": k, "value": v} for k, v in options.items()]}
    return {"type": 2, "channel_id": channel, "data": data}


async def test_ping_signature_and_linked_commands(api: Api, app: FastAPI) -> None:
    trader = await new_trader(api, name="Alpha")
    path = await _connect(api, trader)
    pong = await _post(api, path, {"type": 1})
    assert (pong.status_code, pong.json()) == (200, {"type": 1})

    forged = await _post(api, path, {"type": 1}, signed_by=Ed25519PrivateKey.generate())
    assert (forged.status_code, forged.json()["code"]) == (401, "BOT_SIGNATURE_INVALID")
    unsigned = await api.client.post(path, json={"type": 1})
    assert unsigned.status_code == 401

    status = await _post(api, path, _command("status", "888"))
    assert "This chat is not linked" in status.json()["data"]["content"]
    code = (
        await api.client.post(
            "/api/bot/link-codes", json={"platform": "discord"}, headers=trader.headers
        )
    ).json()["code"]
    linked = await _post(api, path, _command("start", "888", code=code))
    assert "Chat linked" in linked.json()["data"]["content"]
    status = await _post(api, path, _command("status", "888"))
    answer = status.json()
    assert answer["type"] == 4
    assert f"Alpha (#{trader.id}): active" in answer["data"]["content"]
    assert answer["data"]["allowed_mentions"] == {"parse": []}
    async with app.state.services.sessionmaker() as session:
        config = await session.get(BotConfig, int(path.rsplit("/", 1)[1]))
        assert config is not None and config.public_key == PUBLIC
