// The signed-in user's sessions (GET /api/users/sessions); revoking the current one
// signs this tab out.

import { del, forgetSession, get, post } from "./api.js";
import { clear, fmtTime, h, section, table } from "./dom.js";
import { onPress } from "./forms.js";

export async function sessionsPage(main) {
  main.append(h("h1", { text: "Sessions" }));
  const holder = h("div");
  const everywhere = onPress(h("button", { type: "button", class: "danger", text: "Sign out everywhere" }), async () => {
    await post("/api/users/logout-all");
    forgetSession();
  });
  main.append(section("Active sessions", holder, everywhere));

  async function load() {
    const sessions = await get("/api/users/sessions");
    const rows = sessions.map((one) => {
      const revoke = h("button", {
        type: "button",
        class: "danger small",
        text: one.current ? "Revoke (signs you out)" : "Revoke",
        "aria-label": `Revoke session ${one.id}${one.current ? " (this one)" : ""}`,
      });
      onPress(revoke, async () => {
        await del(`/api/users/sessions/${one.id}`);
        if (one.current) {
          forgetSession();
          return null;
        }
        await load();
        return `Session ${one.id} revoked`;
      });
      return h(
        "tr",
        { dataset: { sessionId: one.id } },
        h("td", { text: `${one.client_name || "unnamed"}${one.current ? " (this one)" : ""}` }),
        h("td", { text: fmtTime(one.created_at) }),
        h("td", { text: fmtTime(one.last_used_at) }),
        h("td", { text: fmtTime(one.expires_at) }),
        h("td", { text: one.ip || "–" }),
        h("td", { class: "wrap", text: one.user_agent || "–" }),
        h("td", {}, revoke),
      );
    });
    clear(
      holder,
      table("Sessions of this user", ["Client", "Created", "Last used", "Expires", "IP", "User agent", ""], rows, {
        id: "sessions-table",
      }),
    );
  }
  await load();
}
