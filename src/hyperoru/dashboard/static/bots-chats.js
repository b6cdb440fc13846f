// The chats the bots talk to (GET/POST/PATCH/DELETE /api/bot/bindings): linking a chat
// for commands with a one-time code (POST /api/bot/link-codes, then "/start <code>"
// sent to the bot), receive-only chats, and each chat's traders and state.

import { del, get, patch, post } from "./api.js";
import { clear, field, fmtTime, h, input, section, select, table } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

const PLATFORMS = [["telegram", "Telegram"], ["discord", "Discord"]];
const LINK_POLL_MS = 2000;

function traderPicker(traders) {
  const picker = h("select", { name: "trader_ids", multiple: true, size: Math.min(4, Math.max(2, traders.length)) });
  for (const trader of traders) picker.append(h("option", { value: String(trader.id), text: trader.name }));
  return field("Traders (none chosen: all)", picker, "The chat hears about, and commands, only these.");
}

const chosenTraders = (form) => [...form.elements.trader_ids.selectedOptions].map((option) => Number(option.value));

function chatRow(binding, names, reload) {
  const verb = binding.status === "active" ? "Disable" : "Enable";
  const toggle = onPress(h("button", { type: "button", class: "small", text: verb, "aria-label": `${verb} chat ${binding.chat_id}` }), async () => {
    await patch(`/api/bot/bindings/${binding.id}`, { enabled: binding.status !== "active" });
    await reload();
  });
  const remove = onPress(h("button", { type: "button", class: "small danger", text: "Remove", "aria-label": `Remove chat ${binding.chat_id}` }), async () => {
    await del(`/api/bot/bindings/${binding.id}`);
    await reload();
    return `Chat ${binding.chat_id} removed`;
  });
  const scope = binding.trader_ids.length ? binding.trader_ids.map((id) => names.get(id) || `#${id}`).join(", ") : "all";
  const status = binding.status === "active" ? "active" : `disabled: ${binding.disabled_reason || "by you"}`;
  return h(
    "tr",
    { dataset: { bindingId: binding.id, status: binding.status } },
    h("td", { text: binding.platform }),
    h("td", { text: binding.chat_id }),
    h("td", { class: "wrap", text: scope }),
    h("td", { text: binding.linked ? "linked: may run commands" : "receive only" }),
    h("td", { class: "wrap", text: status }),
    h("td", {}, h("div", { class: "actions" }, toggle, remove)),
  );
}

// Returns the section and a stop() for the page's cleanup (it polls while a code waits).
export function chatsSection(traders, { toast, onLinked }) {
  const names = new Map(traders.map((t) => [t.id, t.name]));
  const holder = h("div");
  let timer = null;
  const stop = () => clearInterval(timer);

  async function reload() {
    const bindings = await get("/api/bot/bindings");
    const rows = bindings.map((binding) => chatRow(binding, names, reload));
    clear(holder, rows.length ? table("Chats", ["Platform", "Chat", "Traders", "Commands", "Status", ""], rows, { id: "bot-chats" }) : h("p", { class: "muted", text: "No chats yet." }));
    return bindings;
  }

  const shown = h("div", { id: "link-code", role: "status" });
  const linkForm = h("form", { id: "link-form" }, field("Platform", select("platform", PLATFORMS)), traderPicker(traders), h("button", { type: "submit", text: "Create link code" }));
  submitForm(linkForm, async () => {
    stop();
    const before = new Set((await reload()).filter((b) => b.linked).map((b) => `${b.id}@${b.updated_at}`));
    const made = await post("/api/bot/link-codes", { platform: linkForm.elements.platform.value, trader_ids: chosenTraders(linkForm) });
    clear(shown, h("p", { text: `Send this to your bot before ${fmtTime(made.expires_at)}:` }), h("p", {}, h("code", { class: "link-code", text: made.command })), h("p", { class: "muted", text: "Waiting for the chat to link…" }));
    const expires = Date.parse(made.expires_at);
    const check = async () => {
      const linked = (await reload()).find((b) => b.linked && !before.has(`${b.id}@${b.updated_at}`));
      if (linked) {
        stop();
        clear(shown, h("p", { class: "up", text: `Chat ${linked.chat_id} linked on ${linked.platform}.` }));
        toast("Chat linked");
        if (onLinked) onLinked();
      } else if (Date.now() > expires) {
        stop();
        clear(shown, h("p", { class: "error", text: "The code expired; create a new one." }));
      }
    };
    // A failed check (offline for a moment) is retried by the next one.
    timer = setInterval(() => check().catch(() => {}), LINK_POLL_MS);
  });

  const addForm = h("form", { id: "chat-add-form" }, field("Platform", select("platform", PLATFORMS)), field("Chat id", input("chat_id", { required: true, maxLength: 64 })), traderPicker(traders), h("button", { type: "submit", text: "Add receive-only chat" }));
  submitForm(addForm, async (values) => {
    await post("/api/bot/bindings", { platform: values.platform, chat_id: values.chat_id, trader_ids: chosenTraders(addForm) });
    addForm.reset();
    await reload();
  });

  const element = section(
    "Chats",
    h("p", { class: "muted", text: "Only a chat linked with a one-time code may run commands (/status, /positions, /pnl, /pause, /resume)." }),
    h("div", { class: "grid two" }, h("div", {}, h("h3", { text: "Link a chat for commands" }), linkForm, shown), h("div", {}, h("h3", { text: "Or add a chat that only receives" }), addForm)),
    holder,
  );
  return { element, reload, stop };
}
