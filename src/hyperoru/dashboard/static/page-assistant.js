// The HyperAI assistant: the user's conversations, a chat whose answer streams in as it
// is written, the tools it ran as cards, and prompts it drafts (opened in Prompts).

import { get } from "./api.js";
import { chatTurn } from "./assistant-chat.js";
import { conversationActions, draftSection } from "./assistant-forms.js";
import { modelSection } from "./assistant-model.js";
import { clear, field, fmtTime, h, section } from "./dom.js";
import { submitForm } from "./forms.js";
import { toolCard } from "./tool-cards.js";

const HINT = 'Try "list my AI traders", "show decisions of trader 1" or "backtest program 1 over the last month".';

function bubble(who, text, state) {
  return h(
    "div",
    { class: `msg ${who === "You" ? "mine" : "answer"}`, dataset: state ? { state } : {} },
    h("p", { class: "who", text: who }),
    h("p", { class: "text", text }),
  );
}

function storedResult(content) {
  try {
    return JSON.parse(content);
  } catch {
    return content; // cut to its stored length: shown as text
  }
}

function storedItem(message) {
  if (message.role === "user") return bubble("You", message.content);
  if (message.role === "tool") return toolCard(message.tool_call || { name: "tool" }, storedResult(message.content));
  return bubble("Assistant", message.content || "(no answer)", "done");
}

function conversationList(conversations, currentId) {
  if (!conversations.length) return h("p", { class: "muted", text: "No conversations yet: send a message to start one." });
  return h(
    "ul",
    { id: "conversations", class: "conversations" },
    conversations.map((c) =>
      h(
        "li",
        {},
        h("a", { href: `#/assistant/${c.id}`, "aria-current": c.id === currentId ? "page" : null, text: c.title }),
        h("small", { class: "muted", text: ` ${c.message_count} messages · ${fmtTime(c.updated_at || c.created_at)}` }),
      ),
    ),
  );
}

export async function assistantPage(main, { params, navigate }) {
  let conversationId = params[0] ? Number(params[0]) : null;
  const controller = new AbortController();
  const [conversations, opened] = await Promise.all([
    get("/api/hyper-ai/conversations?limit=50"),
    conversationId ? get(`/api/hyper-ai/conversations/${conversationId}`) : null,
  ]);
  main.append(h("h1", { text: "Assistant" }));

  const listHolder = h("div", {}, conversationList(conversations, conversationId));
  const fresh = h("button", { type: "button", text: "New conversation" });
  fresh.addEventListener("click", () => navigate("#/assistant"));

  const thread = h("div", { id: "chat-thread", class: "thread" });
  const message = h("textarea", { name: "message", rows: 3, maxLength: 8000, required: true });
  const send = h("button", { type: "submit", text: "Send" });
  const note = h("p", { id: "chat-note", class: "muted", role: "status" });
  const failure = h("p", { id: "chat-error", class: "error", role: "alert" });
  const form = h("form", { id: "chat-form" }, field("Message", message, HINT), h("div", { class: "actions" }, send), note, failure);
  const title = h("h2", { id: "conversation-title", text: opened ? opened.title : "New conversation" });

  const show = (messages) => clear(thread, messages.length ? messages.map(storedItem) : h("p", { class: "muted", text: "Ask something." }));
  show(opened ? opened.messages : []);

  async function reload() {
    const [again, list] = await Promise.all([get(`/api/hyper-ai/conversations/${conversationId}`), get("/api/hyper-ai/conversations?limit=50")]);
    title.textContent = again.title;
    show(again.messages);
    clear(listHolder, conversationList(list, conversationId));
  }

  async function ask(text) {
    failure.textContent = note.textContent = "";
    if (!thread.querySelector(".msg, .tool-card")) clear(thread);
    const mine = bubble("You", text);
    const answer = bubble("Assistant", "", "streaming");
    const answerText = answer.querySelector(".text");
    thread.append(mine, answer);
    let streamError = null;
    const onFrame = ({ kind, data }) => {
      if (kind === "status" && data.conversation_id) {
        answer.dataset.started = "true";
        if (conversationId !== data.conversation_id) history.replaceState(null, "", `#/assistant/${data.conversation_id}`);
        conversationId = data.conversation_id;
      } else if (kind === "token") answerText.append(data.content);
      else if (kind === "tool_call") answer.before(toolCard(data));
      else if (kind === "error") streamError = data;
      else if (kind === "done") answer.dataset.state = streamError ? "error" : "done";
    };
    const onFallback = () => (note.textContent = "The answer could not stream here; it comes by polling instead.");
    let route;
    try {
      route = await chatTurn(messageBody(text), onFrame, { signal: controller.signal, onFallback });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (answer.dataset.started) {
        // Cut off mid-answer: the server stopped the turn and kept what was said.
        await reload().catch(() => {});
        failure.textContent = `The answer was cut off (${error.message}); what was said is kept.`;
        return;
      }
      mine.remove();
      answer.remove();
      failure.textContent = error.message; // the API's own message: a limit, a missing conversation
      return;
    }
    message.value = "";
    await reload();
    if (streamError) failure.textContent = `${streamError.message} (${streamError.code})`;
    note.textContent = route === "polling" ? "Answered (by polling: the stream could not open)." : "Answered.";
  }

  const messageBody = (text) => ({
    message: text,
    context: { page: "dashboard" },
    ...(conversationId ? { conversation_id: conversationId } : {}),
  });

  // ask() shows a refusal or a cut-off answer in the chat itself (#chat-error).
  submitForm(form, async (values) => {
    if (values.message?.trim()) await ask(values.message.trim());
  });

  main.append(
    h(
      "div",
      { class: "chat-layout" },
      section("Conversations", h("div", { class: "actions" }, fresh), listHolder),
      h(
        "section",
        { class: "card chat" },
        title,
        opened ? conversationActions(opened, { navigate, title }) : null,
        thread,
        form,
      ),
    ),
    draftSection(message, form),
    await modelSection(),
  );
  return () => controller.abort();
}
