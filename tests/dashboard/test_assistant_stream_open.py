"""The assistant page with a remote model chosen on the page: the loopback
OpenAI-compatible fake streams a few chunks and then holds its stream open, and the
words are already on the page while the answer is still streaming; it ends only when the
test lets the fake finish. The key typed in is never shown back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.assistant.helpers import API_KEY, streamed, text
from tests.dashboard.conftest import Browser, Demo, open_page, sign_in
from tests.strategies.fake_llm import FakeLlm

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_settings(llm: FakeLlm) -> dict[str, Any]:
    return {"llm_allowed_hosts": f"127.0.0.1:{llm.port}"}


async def test_words_show_while_the_stream_is_still_open(
    demo: Demo, browser: Browser, llm: FakeLlm
) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")

    model = page.locator("#model-form")
    await model.get_by_label("Assistant model").select_option("own")
    await model.get_by_label("Model", exact=True).fill("fake-model-1")
    await model.get_by_label("Base URL").fill(llm.base_url)
    await model.get_by_label("API key").fill(API_KEY)
    await model.get_by_role("button", name="Save model").click()
    await page.locator("#model-now").filter(has_text="key ending").wait_for()
    assert await model.get_by_label("API key").input_value() == ""
    assert API_KEY not in await page.content()

    release = asyncio.Event()
    llm.queue(streamed(text("Hello "), text("from "), text("the stream."), hold=release))
    await page.locator("#chat-form").get_by_label("Message").fill("say hello")
    await page.get_by_role("button", name="Send").click()

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
