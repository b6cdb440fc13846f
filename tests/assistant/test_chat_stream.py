"""A chat with an OpenAI-compatible model on loopback that streams and calls tools."""

from __future__ import annotations

from typing import Any

from tests.accounts.helpers import create_trader
from tests.assistant.helpers import (
    API_KEY,
    World,
    streamed,
    text,
    tokens_of,
    tool_call,
    tool_calls_of,
    tool_messages,
    usage,
)
from tests.strategies.fake_llm import FakeLlm


def _list_traders_script(llm: FakeLlm) -> None:
    llm.queue(
        streamed(text("Let me look. "), tool_call("call_1", "list_traders", {})),
        streamed(text("You have two traders: "), text("Alpha and Beta."), usage(42)),
    )


async def test_a_chat_streams_tokens_and_a_tool_call_and_ends_with_done(
    ai: World, llm: FakeLlm
) -> None:
    _, token = await ai.api.user()
    await create_trader(ai.api, token, name="Alpha")
    await create_trader(ai.api, token, name="Beta")
    await ai.use_fake_model(token, llm)
    _list_traders_script(llm)

    frames = await ai.chat(token, "list my AI traders", skill_ids=[3])

    kinds = [kind for kind, _ in frames]
    assert kinds == ["status", "token", "tool_call", "token", "token", "done"], frames
    conversation_id = frames[0][1]["conversation_id"]
    assert isinstance(conversation_id, int)
    assert frames[-1] == ("done", "[DONE]")
    assert tokens_of(frames) == "Let me look. You have two traders: Alpha and Beta."
    [call] = tool_calls_of(frames)
    assert call == {"id": "call_1", "name": "list_traders", "arguments": "{}", "status": "ok"}

    # The model asked with its key and the tools, streaming; then got the tool's result.
    first, second = llm.requests
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.body["stream"] is True
    assert "list_traders" in {t["function"]["name"] for t in first.body["tools"]}
    [result] = tool_messages(second.body)
    assert result["status"] == "ok"
    assert [t["name"] for t in result["data"]["traders"]] == ["Alpha", "Beta"]

    stored = await ai.api.client.get(
        f"/api/hyper-ai/conversations/{conversation_id}", headers=ai.api.bearer(token)
    )
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["title"] == "list my AI traders" and body["skill_ids"] == [3]
    assert [m["role"] for m in body["messages"]] == ["user", "tool", "assistant"]
    assert body["messages"][2]["content"] == tokens_of(frames)
    assert body["message_count"] == 3


async def test_a_second_message_continues_the_conversation_with_its_history(
    ai: World, llm: FakeLlm
) -> None:
    _, token = await ai.api.user()
    await ai.use_fake_model(token, llm)
    llm.queue(streamed(text("Hello.")), streamed(text("Still here.")))
    first = await ai.chat(token, "hi")
    conversation_id = first[0][1]["conversation_id"]

    second = await ai.chat(token, "again", conversation_id=conversation_id)

    assert second[0][1]["conversation_id"] == conversation_id
    sent = [(m["role"], m["content"]) for m in llm.requests[1].body["messages"][1:]]
    assert sent == [("user", "hi"), ("assistant", "Hello."), ("user", "again")]


async def test_a_provider_without_streaming_is_read_buffered(ai: World, llm: FakeLlm) -> None:
    from tests.strategies.fake_llm import Reply, completion

    _, token = await ai.api.user()
    await create_trader(ai.api, token, name="Gamma")
    await ai.use_fake_model(token, llm)
    calling: dict[str, Any] = completion(None)
    calling["choices"][0]["message"]["tool_calls"] = [
        {"id": "c9", "type": "function", "function": {"name": "list_traders", "arguments": "{}"}}
    ]
    llm.queue(Reply(body=calling), Reply(body=completion("One trader: Gamma.")))

    frames = await ai.chat(token, "traders?")

    assert [c["name"] for c in tool_calls_of(frames)] == ["list_traders"]
    assert tokens_of(frames) == "One trader: Gamma."
    assert frames[-1] == ("done", "[DONE]")


async def test_a_failing_model_ends_with_an_error_frame_then_done(ai: World, llm: FakeLlm) -> None:
    from tests.strategies.fake_llm import Reply

    _, token = await ai.api.user()
    await ai.use_fake_model(token, llm)
    llm.queue(Reply(status=500, body={"error": {"message": f"boom {API_KEY}"}}))

    frames = await ai.chat(token, "hello")

    assert [kind for kind, _ in frames] == ["status", "error", "done"]
    error = frames[1][1]
    assert error["code"] == "UPSTREAM_ERROR" and set(error) == {"code", "message", "details"}
    assert API_KEY not in error["message"] and "boom" in error["message"]


async def test_the_polling_fallback_returns_the_same_content_with_working_cursors(
    ai: World, llm: FakeLlm
) -> None:
    user, token = await ai.api.user()
    await create_trader(ai.api, token, name="Alpha")
    await create_trader(ai.api, token, name="Beta")
    await ai.use_fake_model(token, llm)
    _list_traders_script(llm)
    streamed_frames = await ai.chat(token, "list my AI traders")
    _list_traders_script(llm)

    queued = await ai.api.client.post(
        "/api/prompts/ai-chat-stream",
        json={"context": {"page": "prompts"}, "message": "list my AI traders"},
        headers=ai.api.bearer(token),
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    task_id = queued.json()["task_id"]
    runner = ai.app.state.assistant.tasks.owned(user["id"], task_id).runner
    await runner  # the turn runs in the background; wait for its end, not for a time

    async def poll(path: str, since: int) -> dict[str, Any]:
        response = await ai.api.client.get(
            path, params={"since": since}, headers=ai.api.bearer(token)
        )
        assert response.status_code == 200, response.text
        return response.json()

    everything = await poll(f"/api/ai-stream/{task_id}", 0)
    assert everything["is_done"] is everything["done"] is True
    assert everything["status"] == "done" and everything["error"] is None
    chunks = everything["chunks"]
    assert [c["index"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert everything["next_cursor"] == everything["next"] == len(chunks)
    # The same frames as the SSE chat, in the same order, with the same text.
    assert [c["kind"] for c in chunks] == [kind for kind, _ in streamed_frames]
    polled_tokens = "".join(c["content"] for c in chunks if c["kind"] == "token")
    assert polled_tokens == tokens_of(streamed_frames)
    assert [c["metadata"]["name"] for c in chunks if c["kind"] == "tool_call"] == ["list_traders"]
    assert chunks[-1]["content"] == "[DONE]"

    later = await poll(f"/api/ai-stream/{task_id}/chunks", 2)
    assert later["chunks"] == chunks[2:]
    assert later["next_cursor"] == len(chunks)
    nothing_new = await poll(f"/api/ai-stream/{task_id}", later["next"])
    assert nothing_new["chunks"] == [] and nothing_new["next_cursor"] == len(chunks)


async def test_bad_tool_calls_are_answered_as_errors_and_the_chat_goes_on(
    ai: World, llm: FakeLlm
) -> None:
    _, token = await ai.api.user()
    await ai.use_fake_model(token, llm)
    bad_json = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 2,
                                "id": "c3",
                                "function": {"name": "get_trader", "arguments": "{oops"},
                            }
                        ]
                    },
                }
            ]
        }
    ]
    llm.queue(
        streamed(
            tool_call("c1", "place_order", {"symbol": "BTC"}),
            tool_call("c2", "get_trader", {"trader_id": "many"}, index=1),
            bad_json,
            tool_call("c4", "draft_prompt", {"name": "x\u0000y", "content": "c"}, index=3),
        ),
        streamed(text("Sorry.")),
    )

    frames = await ai.chat(token, "do things")

    calls = tool_calls_of(frames)
    assert [(c["name"], c["status"]) for c in calls] == [
        ("place_order", "error"),
        ("get_trader", "error"),
        ("get_trader", "error"),
        ("draft_prompt", "error"),
    ]
    assert [c["error"]["code"] for c in calls] == [
        "UNKNOWN_TOOL",
        "VALIDATION_ERROR",
        "VALIDATION_ERROR",
        "VALIDATION_ERROR",
    ]
    assert tokens_of(frames) == "Sorry." and frames[-1] == ("done", "[DONE]")
