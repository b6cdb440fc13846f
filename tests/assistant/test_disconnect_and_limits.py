"""A client that goes away stops the model call; the per-user limits answer 429."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hyperoru.settings import Settings
from tests.assistant.helpers import API_KEY, streamed, text, usage, world
from tests.helpers import Api, assert_error
from tests.realtime.conftest import FAST_LIMITS, run_server
from tests.strategies.fake_llm import FakeLlm

DEADLINE = 30.0


async def test_a_client_that_disconnects_cancels_the_upstream_call(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> None:
    settings = make_settings(
        llm_allowed_hosts=f"127.0.0.1:{llm.port}",
        rate_limit_auth_per_minute=1000,
        assistant_keepalive_seconds=0.05,
    )
    async with run_server(settings, FAST_LIMITS) as server:
        user, token = await server.api.user()
        put = await server.http.put(
            "/api/hyper-ai/model",
            json={"provider": "openai", "model": "m", "base_url": llm.base_url, "api_key": API_KEY},
            headers=Api.bearer(token),
        )
        assert put.status_code == 200, put.text
        never = asyncio.Event()  # the model would go on for ever
        llm.queue(streamed(text("Thinking"), hold=never))

        request = server.http.stream(
            "POST",
            "/api/hyper-ai/chat",
            json={"context": {}, "message": "think hard"},
            headers=Api.bearer(token),
        )
        async with request as response:
            assert response.status_code == 200
            seen = ""
            async for chunk in response.aiter_text():
                seen += chunk
                if "event: token" in seen and '"keepalive"' in seen:
                    break  # leave: the connection closes mid-stream
        assert 'data: {"content": "Thinking"}' in seen
        # While the model is silent, the stream stays alive.
        assert 'event: status\ndata: {"status": "keepalive"}' in seen

        # Seen from the model's side: the server hung up on it.
        await asyncio.wait_for(llm.hung_up.wait(), DEADLINE)
        assert llm.hangups == 1 and not never.is_set()
        runtime = server.app.state.assistant
        turns = asyncio.gather(*runtime.running, return_exceptions=True)
        await asyncio.wait_for(turns, DEADLINE)
        assert runtime.slots.running(user["id"]) == 0
        conversations = await server.http.get(
            "/api/hyper-ai/conversations", headers=Api.bearer(token)
        )
        [conversation] = conversations.json()
        stored = await server.http.get(
            f"/api/hyper-ai/conversations/{conversation['id']}", headers=Api.bearer(token)
        )
        # What was said before the hang-up is kept.
        assert [(m["role"], m["content"]) for m in stored.json()["messages"]] == [
            ("user", "think hard"),
            ("assistant", "Thinking"),
        ]


async def test_messages_per_minute_are_limited(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> None:
    async with world(make_settings, llm, assistant_messages_per_minute=2) as ai:
        _, token = await ai.api.user()
        await ai.chat(token, "hello")
        await ai.chat(token, "hello")

        refused = await ai.api.client.post(
            "/api/hyper-ai/chat",
            json={"context": {}, "message": "hi"},
            headers=ai.api.bearer(token),
        )

        body = assert_error(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["retry-after"]) >= 1
        assert body["details"]["limit"] == 2
        _, other = await ai.api.user()
        await ai.chat(other, "hello")  # a budget per user


async def test_tokens_per_day_are_limited(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> None:
    async with world(make_settings, llm, assistant_tokens_per_day=40) as ai:
        _, token = await ai.api.user()
        await ai.use_fake_model(token, llm)
        llm.queue(streamed(text("A long answer."), usage(42)))
        await ai.chat(token, "hello")

        refused = await ai.api.client.post(
            "/api/prompts/ai-chat-stream",
            json={"context": {}, "message": "again"},
            headers=ai.api.bearer(token),
        )

        assert_error(refused, 429, "RATE_LIMITED")
        assert 1 <= int(refused.headers["retry-after"]) <= 86_400
        assert len(llm.requests) == 1


async def test_concurrent_streams_are_limited(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> None:
    async with world(make_settings, llm, assistant_max_concurrent_streams=1) as ai:
        user, token = await ai.api.user()
        await ai.use_fake_model(token, llm)
        release = asyncio.Event()
        llm.queue(streamed(text("Working"), hold=release), streamed(text("Second.")))
        queued = await ai.api.client.post(
            "/api/prompts/ai-chat-stream",
            json={"context": {}, "message": "first"},
            headers=ai.api.bearer(token),
        )
        task = ai.app.state.assistant.tasks.owned(user["id"], queued.json()["task_id"])

        refused = await ai.api.client.post(
            "/api/hyper-ai/chat",
            json={"context": {}, "message": "second"},
            headers=ai.api.bearer(token),
        )

        assert_error(refused, 429, "RATE_LIMITED")
        release.set()
        assert task.runner is not None
        await task.runner
        assert task.status == "done"
        frames = await ai.chat(token, "second")  # the slot came back
        assert frames[-1] == ("done", "[DONE]")
