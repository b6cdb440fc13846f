"""The builtin assistant: the default while no model is configured, answering its fixed
questions through the same tools (docs/ASSISTANT.md)."""

from __future__ import annotations

import json

from hyperoru.assistant.builtin import QUESTIONS
from tests.accounts.helpers import create_trader
from tests.assistant.helpers import World, streamed, text, tokens_of, tool_calls_of
from tests.assistant.test_tools_act_as_user import INJECTION, _backtests, _decision
from tests.backtests.support import create_program, settled
from tests.strategies.fake_llm import FakeLlm


async def test_without_a_model_the_builtin_lists_the_users_traders(ai: World) -> None:
    _, token = await ai.api.user()
    alpha = await create_trader(ai.api, token, name="Alpha")
    await create_trader(ai.api, token, name="Beta")
    _, stranger = await ai.api.user()
    await create_trader(ai.api, stranger, name="Stranger's")

    setting = await ai.api.client.get("/api/hyper-ai/model", headers=ai.api.bearer(token))
    assert setting.json()["source"] == "builtin"
    frames = await ai.chat(token, "List my AI traders")

    assert [kind for kind, _ in frames][:3] == ["status", "tool_call", "token"]
    assert frames[-1] == ("done", "[DONE]")
    [call] = tool_calls_of(frames)
    assert (call["name"], call["status"], call["arguments"]) == ("list_traders", "ok", "{}")
    answer = tokens_of(frames)
    assert answer.startswith(f"You have 2 AI traders: Alpha (#{alpha['id']}")
    assert "Beta" in answer and "Stranger" not in answer


async def test_the_builtin_backtests_a_program_and_reports_the_result(ai: World) -> None:
    _, token = await ai.api.user()
    program_id = await create_program(ai.api, token)

    frames = await ai.chat(token, f"Backtest program {program_id} over the last month")

    [call] = tool_calls_of(frames)
    assert call["name"] == "start_backtest" and call["status"] == "ok"
    assert json.loads(call["arguments"]) == {"program_id": program_id, "days": 30}
    [backtest] = await _backtests(ai.api, token)
    assert f"Backtest #{backtest['id']} of turns is " in tokens_of(frames)
    finished = await settled(ai.api, token, backtest["id"])
    assert finished["status"] == "completed", finished
    config = finished["config"]
    assert config["symbols"] == ["BTC"] and config["interval"] == "1h"

    result = await ai.chat(token, f"What is the result of backtest {backtest['id']}?")

    [read] = tool_calls_of(result)
    assert read["name"] == "backtest_result" and read["status"] == "ok"
    answer = tokens_of(result)
    assert f"Backtest #{backtest['id']} of turns is completed." in answer
    first_metric = sorted(finished["metrics"])[0]
    assert f"{first_metric}: " in answer


async def test_injected_text_in_a_decision_does_not_run_a_builtin_tool(
    ai: World, llm: FakeLlm
) -> None:
    _, token = await ai.api.user()
    program_id = await create_program(ai.api, token)
    injection = INJECTION.format(program=program_id)
    _, decision_id = await _decision(ai.api, token, llm, injection)
    asked = len(llm.requests)

    frames = await ai.chat(token, f"Explain decision {decision_id}")

    assert [c["name"] for c in tool_calls_of(frames)] == ["explain_decision"]
    assert await _backtests(ai.api, token) == []
    # The reasoning is quoted back to the user, as data.
    assert json.dumps(injection) in tokens_of(frames)
    assert len(llm.requests) == asked  # the builtin assistant asked no remote model

    # The quoted text stays out of later turns: a model chosen afterwards never sees it
    # as the assistant's own words.
    await ai.use_fake_model(token, llm)
    llm.queue(streamed(text("Hello.")))
    conversation_id = frames[0][1]["conversation_id"]
    await ai.chat(token, "thanks", conversation_id=conversation_id)
    sent = llm.requests[-1].body["messages"]
    assert "IGNORE ALL" not in json.dumps(sent)
    assert "explain_decision" in sent[-2]["content"] and sent[-2]["role"] == "assistant"


async def test_anything_else_gets_the_list_of_questions(ai: World) -> None:
    _, token = await ai.api.user()

    frames = await ai.chat(token, "What is the meaning of life?")

    assert tool_calls_of(frames) == []
    answer = tokens_of(frames)
    assert all(question.example in answer for question in QUESTIONS)


async def test_the_builtin_drafts_a_new_prompt(ai: World) -> None:
    _, token = await ai.api.user()

    frames = await ai.chat(token, 'Draft a prompt named "Dip buyer"')

    [call] = tool_calls_of(frames)
    assert call["name"] == "draft_prompt" and call["status"] == "ok"
    prompts = await ai.api.client.get("/api/prompts/", headers=ai.api.bearer(token))
    mine = [p for p in prompts.json() if p["user_id"] is not None]
    assert [p["name"] for p in mine] == ["Dip buyer (AI draft)"]
    assert mine[0]["unknown_variables"] == []
