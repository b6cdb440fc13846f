"""Conversations (create, list, read, rename, delete) and the assistant's model settings:
a write-only key, the outbound rules, or a trader's model."""

from __future__ import annotations

from typing import Any

from hyperoru.assistant.model_settings import key_address
from tests.accounts.helpers import create_trader
from tests.assistant.helpers import API_KEY, World, streamed, text
from tests.helpers import assert_error
from tests.strategies.fake_llm import FakeLlm


async def test_conversations_are_created_listed_read_renamed_and_deleted(ai: World) -> None:
    _, token = await ai.api.user()
    auth = ai.api.bearer(token)
    created = await ai.api.client.post(
        "/api/hyper-ai/conversations",
        json={
            "context": {"prompt_id": 7},
            "message": "Help me write a prompt",
            "skill_ids": [1, 2],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    conversation = created.json()
    assert conversation["title"] == "Help me write a prompt"
    assert conversation["context"] == {"prompt_id": 7} and conversation["skill_ids"] == [1, 2]
    assert conversation["message_count"] == 0 and conversation["updated_at"] is None
    path = f"/api/hyper-ai/conversations/{conversation['id']}"

    frames = await ai.chat(token, "list my AI traders", conversation_id=conversation["id"])
    assert frames[0][1]["conversation_id"] == conversation["id"]

    listed = await ai.api.client.get("/api/hyper-ai/conversations", headers=auth)
    assert [c["id"] for c in listed.json()] == [conversation["id"]]
    assert listed.json()[0]["message_count"] == 3  # the question, the tool, the answer
    renamed = await ai.api.client.patch(path, json={"title": "Traders"}, headers=auth)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Traders"
    read = await ai.api.client.get(path, headers=auth)
    assert read.json()["title"] == "Traders"
    assert [m["role"] for m in read.json()["messages"]] == ["user", "tool", "assistant"]
    assert read.json()["messages"][1]["tool_call"]["name"] == "list_traders"

    deleted = await ai.api.client.delete(path, headers=auth)
    assert deleted.status_code == 200 and deleted.json() == {"status": "ok"}
    assert_error(await ai.api.client.get(path, headers=auth), 404, "CONVERSATION_NOT_FOUND")
    assert (await ai.api.client.get("/api/hyper-ai/conversations", headers=auth)).json() == []


async def test_bad_chat_bodies_get_the_contracts_error_shape(ai: World) -> None:
    _, token = await ai.api.user()
    auth = ai.api.bearer(token)
    for body in ({"message": "no context"}, {"context": {}}, {"context": {}, "message": ""}):
        response = await ai.api.client.post("/api/hyper-ai/chat", json=body, headers=auth)
        assert_error(response, 400, "VALIDATION_ERROR")
    missing = await ai.api.client.post(
        "/api/hyper-ai/chat",
        json={"context": {}, "message": "hi", "conversation_id": 999999},
        headers=auth,
    )
    assert_error(missing, 404, "CONVERSATION_NOT_FOUND")
    unknown = await ai.api.client.get("/api/ai-stream/ait_nothing", headers=auth)
    assert_error(unknown, 404, "AI_TASK_NOT_FOUND")
    negative = await ai.api.client.get("/api/ai-stream/ait_nothing?since=-1", headers=auth)
    assert_error(negative, 400, "VALIDATION_ERROR")
    anonymous = await ai.api.client.post("/api/hyper-ai/chat", json={"context": {}, "message": "x"})
    assert_error(anonymous, 401, "AUTH_REQUIRED")


async def _model(ai: World, token: str, **body: Any) -> Any:
    return await ai.api.client.put("/api/hyper-ai/model", json=body, headers=ai.api.bearer(token))


async def test_the_key_is_write_only_sealed_and_dropped_when_the_url_changes(
    ai: World, llm: FakeLlm
) -> None:
    user, token = await ai.api.user()
    saved = await _model(
        ai, token, provider="openai", model="fake-model-1", base_url=llm.base_url, api_key=API_KEY
    )
    assert saved.status_code == 200, saved.text
    shown = saved.json()
    assert shown["source"] == "own" and shown["has_api_key"] is True
    assert shown["api_key_hint"] == API_KEY[-4:] and API_KEY not in saved.text
    read = await ai.api.client.get("/api/hyper-ai/model", headers=ai.api.bearer(token))
    assert read.json() == shown
    # Sealed in the vault under its own address, not stored in the settings row.
    async with ai.app.state.services.sessionmaker() as session:
        from hyperoru.vault import store

        box = ai.app.state.services.secret_box
        assert await store.read_secret(session, box, key_address(user["id"])) == API_KEY

    moved = await _model(ai, token, base_url=llm.base_url.replace("/v1", "/v2"))
    assert moved.json()["has_api_key"] is False and moved.json()["api_key_hint"] is None
    async with ai.app.state.services.sessionmaker() as session:
        assert await store.read_secret(session, box, key_address(user["id"])) is None


async def test_a_base_url_the_outbound_rules_refuse_is_422(ai: World) -> None:
    _, token = await ai.api.user()
    for url in ("http://169.254.169.254/latest", "http://10.0.0.5/v1", "ftp://example.com"):
        refused = await _model(ai, token, provider="openai", model="m", base_url=url)
        assert_error(refused, 422, "URL_NOT_ALLOWED")
    read = await ai.api.client.get("/api/hyper-ai/model", headers=ai.api.bearer(token))
    assert read.json()["source"] == "builtin"


async def test_the_assistant_can_use_a_traders_model_and_key(ai: World, llm: FakeLlm) -> None:
    _, token = await ai.api.user()
    trader = await create_trader(
        ai.api,
        token,
        llm_provider="openai",
        llm_model="trader-model",
        llm_base_url=llm.base_url,
        llm_api_key="sk-the-traders-own-key",
    )
    _, stranger = await ai.api.user()
    assert_error(await _model(ai, stranger, trader_id=trader["id"]), 403, "FORBIDDEN")
    chosen = await _model(ai, token, trader_id=trader["id"])
    assert chosen.json()["source"] == "trader" and chosen.json()["trader_id"] == trader["id"]
    llm.queue(streamed(text("Hi from the trader's model.")))

    await ai.chat(token, "hello")

    [asked] = llm.requests
    assert asked.body["model"] == "trader-model"
    assert asked.headers["authorization"] == "Bearer sk-the-traders-own-key"

    back = await _model(ai, token, provider="builtin")
    assert back.json()["source"] == "builtin"
