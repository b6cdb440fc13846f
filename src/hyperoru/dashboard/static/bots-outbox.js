// The delivery log (GET /api/bot/outbox): the latest messages the bots sent or still
// owe, with their state (pending, sent, dead) and the platform's last error.

import { get } from "./api.js";
import { clear, fmtTime, h, section, table } from "./dom.js";

export function outboxSection() {
  const holder = h("div");
  async function reload() {
    const messages = await get("/api/bot/outbox?limit=20");
    const rows = messages.map((m) =>
      h(
        "tr",
        { dataset: { status: m.status } },
        h("td", { text: fmtTime(m.created_at) }),
        h("td", { text: m.platform }),
        h("td", { text: m.chat_id }),
        h("td", { text: m.kind }),
        h("td", { text: m.status }),
        h("td", { class: "num", text: String(m.attempts) }),
        h("td", { class: "wrap", text: m.last_error || "–" }),
        h("td", { text: fmtTime(m.sent_at) }),
      ),
    );
    clear(
      holder,
      rows.length
        ? table("Latest messages", ["Created", "Platform", "Chat", "Kind", "Status", "Attempts", "Last error", "Sent"], rows, { id: "bot-outbox" })
        : h("p", { class: "muted", text: "Nothing sent yet." }),
    );
  }
  const refresh = h("button", { type: "button", text: "Refresh the log" });
  refresh.addEventListener("click", reload);
  return { element: section("Delivery log", holder, h("div", { class: "actions" }, refresh)), reload };
}
