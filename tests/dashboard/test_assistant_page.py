"""The assistant page against the builtin model: the answer is written into the page
token by token while the SSE stream is still open, the tool it ran shows as a card, the
conversation is there again after a reload, a drafted prompt opens in Prompts, the
polling route answers when the stream cannot be opened, and the API's refusal is shown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.conftest import Browser, Demo, open_page, sign_in

pytestmark = pytest.mark.browser

# Logs, in order, every token the page appends to the streaming answer, every tool card
# it inserts, and the moment the answer is marked done (its last frame arrived).
OBSERVE = """
() => {
  const log = (window.chatLog = []);
  const thread = document.getElementById("chat-thread");
  new MutationObserver((records) => {
    for (const record of records) {
      const target = record.target;
      if (record.type === "attributes" && target.dataset.state === "done") log.push(["done"]);
      if (record.type !== "childList") continue;
      const streaming = target.closest(".msg.answer");
      for (const node of record.addedNodes) {
        if (streaming && node.nodeType === Node.TEXT_NODE) log.push(["token", node.textContent]);
        if (node.classList && node.classList.contains("tool-card")) {
          log.push(["tool", node.dataset.tool]);
        }
      }
    }
  }).observe(thread, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"],
  });
}
"""


async def _traders(demo: Demo) -> list[dict[str, Any]]:
    headers = demo.server.api.bearer(await demo.token())
    return (await demo.server.http.get("/api/account/list", headers=headers)).json()


async def _ask(page: Any, text: str) -> None:
    await page.locator("#chat-form").get_by_label("Message").fill(text)
    await page.get_by_role("button", name="Send").click()
    await page.locator("#chat-note").filter(has_text="Answered").wait_for()


async def test_the_answer_streams_in_with_its_tool_card_and_survives_a_reload(
    demo: Demo, browser: Browser
) -> None:
    traders = await _traders(demo)
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")
    await page.evaluate(OBSERVE)

    await _ask(page, "list my AI traders")
    log = await page.evaluate("window.chatLog")
    done = log.index(["done"])
    streamed = [entry[1] for entry in log[:done] if entry[0] == "token"]
    # The builtin model words its answer in several token frames; each was on the page
    # before the last frame (done) arrived.
    assert len(streamed) >= 3, log
    assert ["tool", "list_traders"] in log[:done]
    answer = "".join(streamed)
    for trader in traders:
        assert trader["name"] in answer

    # After the turn the thread is the stored conversation: the card now has the result.
    card = page.locator('.tool-card[data-tool="list_traders"]')
    await card.get_by_text("Listed your AI traders").wait_for()
    await card.get_by_text(f"Result: {len(traders)} traders").wait_for()
    assert await page.locator(".msg.answer .text").last.inner_text() == answer
    conversation_hash = await page.evaluate("location.hash")
    assert conversation_hash.startswith("#/assistant/")

    await page.reload()
    await page.wait_for_selector('#main[data-page="assistant"][data-ready="true"]')
    assert await page.evaluate("location.hash") == conversation_hash
    await page.locator(".msg.mine").get_by_text("list my AI traders").wait_for()
    assert await page.locator(".msg.answer .text").last.inner_text() == answer
    assert await page.locator('.tool-card[data-tool="list_traders"]').count() == 1
    current = page.locator('#conversations a[aria-current="page"]')
    assert await current.inner_text() == "list my AI traders"


async def test_a_drafted_prompt_opens_in_the_prompts_page(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")
    draft = page.locator("#draft-form")
    await draft.get_by_label("Prompt name").fill("BTC dip buyer")
    await draft.get_by_role("button", name="Draft the prompt").click()
    await page.locator("#chat-note").filter(has_text="Answered").wait_for()

    card = page.locator('.tool-card[data-tool="draft_prompt"]')
    await card.get_by_text("Drafted a new prompt").wait_for()
    await card.get_by_text("BTC dip buyer", exact=True).wait_for()  # its arguments
    await card.get_by_role("link", name="Open in Prompts").click()
    await page.wait_for_selector('#main[data-page="prompts"][data-ready="true"]')
    form = page.locator("#prompt-form")
    assert await form.get_by_label("Name").input_value() == "BTC dip buyer (AI draft)"
    assert "{market_prices}" in await form.get_by_label("Content").input_value()


async def test_the_polling_route_answers_when_the_stream_cannot_open(
    demo: Demo, browser: Browser
) -> None:
    traders = await _traders(demo)
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")
    # The stream route's connection fails before any answer, as behind a proxy that
    # refuses to stream.
    await page.route("**/api/hyper-ai/chat", lambda route: route.abort("aborted"))

    await _ask(page, "list my AI traders")
    assert "by polling" in await page.locator("#chat-note").inner_text()
    answer = await page.locator(".msg.answer .text").last.inner_text()
    assert all(trader["name"] in answer for trader in traders)
    assert await page.locator('.tool-card[data-tool="list_traders"]').count() == 1

    headers = demo.server.api.bearer(await demo.token())
    (conversation,) = (
        await demo.server.http.get("/api/hyper-ai/conversations", headers=headers)
    ).json()
    stored = (
        await demo.server.http.get(
            f"/api/hyper-ai/conversations/{conversation['id']}", headers=headers
        )
    ).json()
    assert [m["role"] for m in stored["messages"]] == ["user", "tool", "assistant"]


async def test_the_apis_refusal_is_shown_as_its_message(demo: Demo, browser: Browser) -> None:
    page, watch = await browser.page()
    watch.allowed_statuses.add(404)  # Chromium logs the refused request as a failed load
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")
    await _ask(page, "list my programs")
    conversation_id = int((await page.evaluate("location.hash")).rsplit("/", 1)[1])

    headers = demo.server.api.bearer(await demo.token())
    gone = await demo.server.http.delete(
        f"/api/hyper-ai/conversations/{conversation_id}", headers=headers
    )
    assert gone.is_success
    refused = await demo.server.http.post(
        "/api/hyper-ai/chat",
        json={"message": "list my programs", "context": {}, "conversation_id": conversation_id},
        headers=headers,
    )
    assert refused.status_code == 404

    await page.locator("#chat-form").get_by_label("Message").fill("list my AI traders")
    await page.get_by_role("button", name="Send").click()
    await page.locator("#chat-error").filter(has_text=refused.json()["message"]).wait_for()
    assert await page.locator(".msg.mine").count() == 1  # the refused message is not shown as sent


async def test_rename_and_delete_a_conversation(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    await open_page(page, "#/assistant", "assistant")
    await _ask(page, "list my programs")
    await page.reload()  # the conversation's own address: its rename and delete controls
    await page.wait_for_selector('#main[data-page="assistant"][data-ready="true"]')

    await page.get_by_text("Rename or delete").click()
    rename = page.locator("#rename-form")
    await rename.get_by_label("Title").fill("Programs talk")
    await rename.get_by_role("button", name="Rename").click()
    await page.locator("#conversation-title").filter(has_text="Programs talk").wait_for()
    headers = demo.server.api.bearer(await demo.token())
    (stored,) = (await demo.server.http.get("/api/hyper-ai/conversations", headers=headers)).json()
    assert stored["title"] == "Programs talk"

    await page.get_by_role("button", name="Delete conversation").click()
    await page.get_by_text("No conversations yet").wait_for()
    assert await page.evaluate("location.hash") == "#/assistant"
    assert (await demo.server.http.get("/api/hyper-ai/conversations", headers=headers)).json() == []


# Fed to the page's own parser in pieces of 1, 7 and all characters: every line end
# ("\r\n" too) is split somewhere, a comment is skipped, data lines are joined, and the
# event cut off by the end is not handed out.
SSE_PIECES = r"""
async () => {
  const { SseParser } = await import("/static/sse.js");
  const text = 'event: token\r\ndata: {"content": "a"}\r\n\r\n: keep-alive\n\n'
    + "event: done\rdata: [DONE]\r\rdata: line 1\ndata:line 2\n\nevent: cut\ndata: x";
  const runs = [];
  for (const size of [1, 7, text.length]) {
    const seen = [];
    const parser = new SseParser((event) => seen.push([event.event, event.data]));
    for (let at = 0; at < text.length; at += size) parser.push(text.slice(at, at + size));
    runs.push(seen);
  }
  return runs;
}
"""


async def test_the_sse_parser_reads_events_split_anywhere(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await page.goto(demo.url + "/")
    runs = await page.evaluate(SSE_PIECES)
    expected = [
        ["token", '{"content": "a"}'],
        ["done", "[DONE]"],
        ["message", "line 1\nline 2"],
    ]
    assert runs == [expected, expected, expected]
