"""The assistant page with a remote model chosen on the page (the loopback
OpenAI-compatible fake): the words are on the page while the fake still holds its stream
open; an action the model asks for after reading data shows as a refused card; a chat
past the concurrent-stream limit shows the API's 429 message. The key is never shown."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.assistant.helpers import API_KEY, streamed, text, tool_call
from tests.dashboard.conftest import Browser, Demo, open_page, sign_in
from tests.strategies.fake_llm import FakeLlm

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_settings(llm: FakeLlm) -> dict[str, Any]:
    return {"llm_allowed_hosts": f"127.0.0.1:{llm.port}", "assistant_max_concurrent_streams": 1}


async def _choose_the_fake(page: Any, llm: FakeLlm) -> None:
    model = page.locator("#model-form")
    await model.get_by_label("Assistant model").select_option("own")
    await model.get_by_label("Model", exact=True).fill("fake-model-1")
    await model.get_by_label("Base URL").fill(llm.base_url)
    await model.get_by_label("API key").fill(API_KEY)
    await model.get_by_role("button", name="Save model").click()
    await page.locator("#model-now").filter(has_text="key ending").wait_for()
    assert await model.get_by_label("API key").input_value() == ""
    assert API_KEY not in await page.content()


async def _open(demo: Demo, browser: Browser, llm: FakeLlm) -> tuple[Any, Any]:
    page, watch = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")
    await _choose_the_fake(page, llm)
    return page, watch


async def _send(page: Any, message: str) -> None:
    await page.locator("#chat-form").get_by_label("Message").fill(message)
    await page.get_by_role("button", name="Send").click()


async def test_words_show_while_the_stream_is_still_open(
    demo: Demo, browser: Browser, llm: FakeLlm
) -> None:
    page, _ = await _open(demo, browser, llm)
    release = asyncio.Event()
    llm.queue(streamed(text("Hello "), text("from "), text("the stream."), hold=release))
    await _send(page, "say hello")

    answer = page.locator(".msg.answer").last
    await answer.locator(".text").filter(has_text="Hello from the stream.").wait_for()
    # The model has not finished: the page shows the words of a stream still open.
    assert await answer.get_attribute("data-state") == "streaming"
    assert await page.get_by_role("button", name="Send").is_disabled()

    release.set()
    await page.locator("#chat-note").filter(has_text="Answered.").wait_for()
    assert await page.locator(".msg.answer .text").last.inner_text() == "Hello from the stream."
    (request,) = [r for r in llm.requests if r.body.get("stream")]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


async def test_an_action_asked_for_after_reading_data_shows_as_refused(
    demo: Demo, browser: Browser, llm: FakeLlm
) -> None:
    page, _ = await _open(demo, browser, llm)
    llm.queue(
        streamed(tool_call("c1", "list_traders", {})),
        # As if a trader's name had told the model to act: the server refuses the action.
        streamed(tool_call("c2", "draft_prompt", {"name": "pwned", "content": "x"})),
        streamed(text("I need your confirmation first.")),
    )
    await _send(page, "look at my traders")
    await page.locator("#chat-note").filter(has_text="Answered.").wait_for()
    refused = page.locator('.tool-card[data-tool="draft_prompt"][data-status="refused"]')
    await refused.get_by_text("not run: needs your confirmation").wait_for()
    await page.locator('.tool-card[data-tool="list_traders"][data-status="ok"]').wait_for()
    headers = demo.server.api.bearer(await demo.token())
    prompts = (await demo.server.http.get("/api/prompts/", headers=headers)).json()
    assert not [p for p in prompts if "pwned" in p["name"]]


async def test_a_chat_past_the_stream_limit_shows_the_apis_message(
    demo: Demo, browser: Browser, llm: FakeLlm
) -> None:
    page, watch = await _open(demo, browser, llm)
    watch.allowed_statuses.add(429)  # Chromium logs the refused request as a failed load
    release = asyncio.Event()
    llm.queue(streamed(text("busy"), hold=release))
    asked = asyncio.Event()

    async def on_request(_: Any) -> None:
        asked.set()

    llm.on_request = on_request
    headers = demo.server.api.bearer(await demo.token())
    body = {"message": "hold on", "context": {}}
    other = asyncio.create_task(
        demo.server.http.post("/api/hyper-ai/chat", json=body, headers=headers)
    )
    await asked.wait()  # the other client's chat holds the user's only stream slot

    await _send(page, "say hello")
    refused = page.locator("#chat-error")
    await refused.filter(has_text="may run at once").wait_for()
    assert await page.locator(".msg.mine").count() == 0  # not shown as sent
    release.set()
    assert (await other).status_code == 200
    again = await demo.server.http.post("/api/hyper-ai/chat", json=body, headers=headers)
    assert again.status_code == 200  # the slot came back
