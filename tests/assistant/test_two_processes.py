"""Two API processes on one Redis and one database (the scaled shape): a turn queued on
one is polled through the other, and the streams-at-once limit counts both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from hyperoru.settings import Settings
from tests.accounts.helpers import create_trader
from tests.assistant.helpers import API_KEY, streamed, text
from tests.conftest import two_processes
from tests.helpers import Api, assert_error
from tests.strategies.fake_llm import FakeLlm


async def _poll(client: httpx.AsyncClient, token: str, task_id: str, since: int) -> dict[str, Any]:
    path = f"/api/ai-stream/{task_id}" if since % 2 else f"/api/ai-stream/{task_id}/chunks"
    response = await client.get(path, params={"since": since}, headers=Api.bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_turn_queued_on_one_process_is_paged_through_the_other(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    async with two_processes(make_settings(redis_url=redis_url)) as (first, _, one, two):
        api = Api(one)
        user, token = await api.user()
        await create_trader(api, token, name="Alpha")
        await create_trader(api, token, name="Beta")
        queued = await one.post(
            "/api/prompts/ai-chat-stream",
            json={"context": {}, "message": "list my AI traders"},  # the builtin model
            headers=api.bearer(token),
        )
        assert queued.status_code == 202, queued.text
        task_id = queued.json()["task_id"]
        await first.state.assistant.tasks.owned(user["id"], task_id).runner

        whole = await _poll(two, token, task_id, 0)
        assert whole == await _poll(one, token, task_id, 0)  # either process, the same answer
        assert whole["status"] == "done" and whole["is_done"] is whole["done"] is True
        chunks = whole["chunks"]
        assert [c["index"] for c in chunks] == list(range(1, len(chunks) + 1))
        assert [c["kind"] for c in chunks][:2] == ["status", "tool_call"]
        assert chunks[1]["metadata"]["name"] == "list_traders"
        said = "".join(c["content"] for c in chunks if c["kind"] == "token")
        assert "Alpha" in said and "Beta" in said
        assert chunks[-1]["content"] == "[DONE]" and whole["next_cursor"] == len(chunks)

        # A client following the cursors one chunk at a time through the other process.
        seen, since = [], 0
        while True:
            page = await _poll(two, token, task_id, since)
            if not page["chunks"]:
                assert page["is_done"] and page["next_cursor"] == page["next"] == since
                break
            seen.append(page["chunks"][0])
            assert page["chunks"] == chunks[since:]
            since = page["chunks"][0]["index"]
        assert seen == chunks

        _, other = await api.user()
        stranger = await two.get(f"/api/ai-stream/{task_id}", headers=api.bearer(other))
        assert_error(stranger, 404, "AI_TASK_NOT_FOUND")


async def test_the_streams_at_once_limit_holds_across_processes(
    make_settings: Callable[..., Settings], redis_url: str, llm: FakeLlm
) -> None:
    settings = make_settings(
        redis_url=redis_url,
        llm_allowed_hosts=f"127.0.0.1:{llm.port}",
        assistant_max_concurrent_streams=1,
    )
    async with two_processes(settings) as (first, _, one, two):
        api = Api(one)
        user, token = await api.user()
        model = {"provider": "openai", "model": "m", "base_url": llm.base_url, "api_key": API_KEY}
        assert (
            await one.put("/api/hyper-ai/model", json=model, headers=api.bearer(token))
        ).is_success
        release = asyncio.Event()
        llm.queue(streamed(text("Working"), hold=release), streamed(text("Second.")))
        queued = await one.post(
            "/api/prompts/ai-chat-stream",
            json={"context": {}, "message": "first"},
            headers=api.bearer(token),
        )
        assert queued.status_code == 202, queued.text

        for client, path in ((two, "/api/hyper-ai/chat"), (two, "/api/prompts/ai-chat-stream")):
            refused = await client.post(
                path, json={"context": {}, "message": "second"}, headers=api.bearer(token)
            )
            assert_error(refused, 429, "RATE_LIMITED")
        _, other = await api.user()  # another user has their own slot
        assert (
            await two.post(
                "/api/prompts/ai-chat-stream",
                json={"context": {}, "message": "hello"},
                headers=api.bearer(other),
            )
        ).status_code == 202

        release.set()
        await first.state.assistant.tasks.owned(user["id"], queued.json()["task_id"]).runner
        again = await two.post(
            "/api/hyper-ai/chat",
            json={"context": {}, "message": "second"},
            headers=api.bearer(token),
        )
        assert again.status_code == 200 and again.text.endswith("data: [DONE]\n\n")
