// Which model the assistant uses (GET/PUT /api/hyper-ai/model): the offline builtin, an
// OpenAI-compatible endpoint with a write-only key, or one of the user's traders' models.

import { get, put } from "./api.js";
import { field, h, input, section, select } from "./dom.js";
import { submitForm } from "./forms.js";

function describe(settings) {
  if (settings.source === "trader") return `Now: trader #${settings.trader_id}'s model.`;
  if (settings.source === "own") {
    const key = settings.has_api_key ? `key ending ${settings.api_key_hint || "(hidden)"}` : "no key";
    return `Now: ${settings.provider} ${settings.model || ""} at ${settings.base_url || "its default address"}, ${key}.`;
  }
  return "Now: the builtin offline assistant (no key needed).";
}

export async function modelSection() {
  const [settings, traders] = await Promise.all([get("/api/hyper-ai/model"), get("/api/account/list")]);
  const source = select("source", [["builtin", "Builtin (offline)"], ["own", "An OpenAI-compatible endpoint"], ["trader", "A trader's model"]], settings.source);
  const own = h(
    "div",
    {},
    field("Model", input("model", { value: settings.source === "own" ? settings.model || "" : "", maxLength: 128 })),
    field("Base URL", input("base_url", { type: "url", value: settings.base_url || "", maxLength: 2048 })),
    field("API key", input("api_key", { type: "password", autocomplete: "off", maxLength: 512 }), "Write-only: never shown again. Leave empty to keep the stored key (a new base URL drops it)."),
  );
  const trader = h("div", {}, field("Trader", select("trader_id", traders.map((t) => [t.id, t.name]), settings.trader_id)));
  const now = h("p", { id: "model-now", class: "muted", role: "status", text: describe(settings) });
  const form = h("form", { id: "model-form" }, field("Assistant model", source), own, trader, h("button", { type: "submit", text: "Save model" }), now);
  const toggle = () => {
    own.hidden = source.value !== "own";
    trader.hidden = source.value !== "trader";
    for (const el of own.querySelectorAll("input")) el.disabled = own.hidden;
    for (const el of trader.querySelectorAll("select")) el.disabled = trader.hidden;
  };
  source.addEventListener("change", toggle);
  toggle();
  submitForm(form, async ({ source: chosen, trader_id: traderId, ...rest }) => {
    const body = chosen === "builtin" ? { provider: "builtin" } : chosen === "trader" ? { trader_id: Number(traderId) } : { provider: "openai", ...rest };
    const saved = await put("/api/hyper-ai/model", body);
    form.elements.api_key.value = "";
    now.textContent = describe(saved);
    return "Assistant model saved";
  });
  return section("The assistant's model", form);
}
