// Prompt templates: list, edit, copy, delete, and a preview rendered for one trader.

import { del, get, post, put } from "./api.js";
import { field, h, input, section, select } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

export async function promptsPage(main, { params = [] }) {
  main.append(h("h1", { text: "Prompts" }));
  const [prompts, accounts] = await Promise.all([get("/api/prompts/"), get("/api/account/list")]);
  const picker = select("prompt", [["", "New template"], ...prompts.map((p) => [p.id, `${p.name}${p.is_system ? " (built-in)" : ""}`])]);
  const name = input("name", { required: true, maxLength: 128 });
  const content = h("textarea", { name: "content", rows: 14, spellcheck: false, required: true });
  const readOnly = h("p", { class: "muted", role: "status" });
  const save = h("button", { type: "submit", text: "Save" });
  const copy = h("button", { type: "button", text: "Copy" });
  const remove = h("button", { type: "button", class: "danger", text: "Delete" });
  const trader = select("account_id", accounts.map((a) => [a.id, a.name]));
  const previewButton = h("button", { type: "button", text: "Preview", disabled: accounts.length === 0 });
  const preview = h("pre", { id: "prompt-preview", class: "preview", tabindex: "0", "aria-label": "Rendered prompt" });
  const unknown = h("p", { class: "muted", role: "status" });

  const current = () => prompts.find((p) => String(p.id) === picker.value) || null;
  function load() {
    const prompt = current();
    name.value = prompt ? prompt.name : "";
    content.value = prompt ? prompt.content : "";
    const system = Boolean(prompt && prompt.is_system);
    name.readOnly = content.readOnly = system;
    save.disabled = remove.disabled = system;
    copy.disabled = !prompt;
    readOnly.textContent = system ? "Built-in templates are read-only: copy one to change it." : "";
  }
  picker.addEventListener("change", load);

  const form = h(
    "form",
    { id: "prompt-form" },
    field("Template", picker),
    field("Name", name),
    field("Content", content, "Placeholders such as {market_prices} or {{account_state}} are filled in for each decision."),
    readOnly,
    h("div", { class: "actions" }, save, copy, remove),
  );
  submitForm(form, async (values) => {
    const prompt = current();
    const body = { name: values.name, content: values.content };
    let saved;
    if (prompt) {
      saved = await put(`/api/prompts/${prompt.id}`, body);
      Object.assign(prompt, saved);
    } else {
      saved = await post("/api/prompts/", body);
      prompts.push(saved);
      picker.append(h("option", { value: String(saved.id), text: saved.name }));
      picker.value = String(saved.id);
    }
    picker.selectedOptions[0].textContent = saved.name;
    return `Saved ${saved.name}`;
  });
  onPress(copy, async () => {
    const made = await post(`/api/prompts/${current().id}/copy`);
    prompts.push(made);
    picker.append(h("option", { value: String(made.id), text: made.name }));
    picker.value = String(made.id);
    load();
    return `Copied to ${made.name}`;
  });
  onPress(remove, async () => {
    const prompt = current();
    await del(`/api/prompts/${prompt.id}`);
    prompts.splice(prompts.indexOf(prompt), 1);
    picker.selectedOptions[0].remove();
    picker.value = "";
    load();
    return "Deleted";
  });
  onPress(previewButton, async () => {
    const answer = await post("/api/prompts/preview", { content: content.value, account_id: Number(trader.value) });
    preview.textContent = answer.rendered;
    unknown.textContent = answer.unknown_variables.length ? `Unknown placeholders: ${answer.unknown_variables.join(", ")}` : "";
  });
  if (params[0]) picker.value = params[0]; // #/…/<id> opens that one (the assistant links its drafts)
  load();
  main.append(
    section("Editor", form),
    section("Preview for a trader", h("div", { class: "inline-form" }, field("Trader", trader), previewButton), unknown, preview),
  );
}
