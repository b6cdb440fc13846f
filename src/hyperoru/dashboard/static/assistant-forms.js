// The assistant page's smaller forms: rename or delete the open conversation, and ask
// the assistant to draft a prompt.

import { del, patch } from "./api.js";
import { field, h, input, section } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

export function conversationActions(conversation, { navigate, title }) {
  const name = input("title", { value: conversation.title, maxLength: 200, required: true });
  const rename = h("form", { id: "rename-form", class: "inline-form" }, field("Title", name), h("button", { type: "submit", text: "Rename" }));
  submitForm(rename, async (values) => {
    const saved = await patch(`/api/hyper-ai/conversations/${conversation.id}`, { title: values.title });
    title.textContent = saved.title;
    return "Renamed";
  });
  const remove = onPress(h("button", { type: "button", class: "danger", text: "Delete conversation" }), async () => {
    await del(`/api/hyper-ai/conversations/${conversation.id}`);
    navigate("#/assistant");
    return "Conversation deleted";
  });
  return h("details", { class: "conversation-actions" }, h("summary", { text: "Rename or delete" }), rename, remove);
}

// Prompt authoring: the assistant's draft_prompt tool saves a new prompt (never edits
// one); its card links to the Prompts page, where the draft opens.
export function draftSection(message, form) {
  const name = input("prompt_name", { required: true, maxLength: 60 });
  const goal = input("prompt_goal", { maxLength: 500 });
  const draft = h(
    "form",
    { id: "draft-form", class: "inline-form" },
    field("Prompt name", name),
    field("What it should do (optional)", goal),
    h("button", { type: "submit", text: "Draft the prompt" }),
  );
  draft.addEventListener("submit", (event) => {
    event.preventDefault();
    const quoted = name.value.replaceAll('"', "'");
    message.value = `Draft a prompt named "${quoted}"${goal.value ? `: ${goal.value}` : ""}`;
    form.requestSubmit();
  });
  return section("Draft a prompt with the assistant", h("p", { class: "muted", text: "The draft is saved as a new prompt; open it in Prompts to edit and preview it." }), draft);
}
