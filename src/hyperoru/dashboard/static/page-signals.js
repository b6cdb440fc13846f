// Signals, pools and bindings.

import { del, get, post } from "./api.js";
import { field, fmtTime, h, input, section, select, table } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

const EXAMPLE = '{"indicator": "rsi", "period": 14, "interval": "5m", "operator": "<", "threshold": 30}';

// Text that is not JSON is refused here, at the field, as the API refuses what it names.
function parseConfig(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw Object.assign(new Error(`Configuration is not valid JSON: ${error.message}`), { details: { field: "config" } });
  }
}

export async function signalsPage(main, { navigate }) {
  main.append(h("h1", { text: "Signals, pools and bindings" }));
  const [overview, bindings, accounts, prompts, programs] = await Promise.all([
    get("/api/signals/"),
    get("/api/bindings"),
    get("/api/account/list"),
    get("/api/prompts/"),
    get("/api/programs/"),
  ]);
  const reload = () => navigate("#/signals");
  const deleteButton = (label, path) => {
    const button = h("button", { type: "button", class: "small", text: "Delete", "aria-label": `Delete ${label}` });
    return onPress(button, async () => {
      await del(path);
      reload();
    });
  };

  const definitionForm = h(
    "form",
    { id: "signal-form" },
    field("Name", input("name", { required: true })),
    field("Type", select("type", ["threshold", "crossover", "pattern"])),
    field("Configuration (JSON)", h("textarea", { name: "config", rows: 3, class: "code", required: true, value: EXAMPLE })),
    h("button", { type: "submit", text: "Add signal" }),
  );
  submitForm(definitionForm, async (values) => {
    await post("/api/signals/definitions", { name: values.name, type: values.type, config: parseConfig(values.config) });
    reload();
  });

  const signalChoice = h("select", { name: "signal_ids", multiple: true, size: Math.min(6, Math.max(2, overview.definitions.length)) });
  for (const d of overview.definitions) signalChoice.append(h("option", { value: String(d.id), text: d.name }));
  const poolForm = h(
    "form",
    { id: "pool-form" },
    field("Name", input("name", { required: true })),
    field("Signals", signalChoice),
    field("Symbols", input("symbols", { value: "BTC" }), "Comma-separated coins."),
    field("Logic", select("logic", [["and", "all signals (and)"], ["or", "any signal (or)"]])),
    h("button", { type: "submit", text: "Add pool", disabled: overview.definitions.length === 0 }),
  );
  submitForm(poolForm, async (values) => {
    await post("/api/signals/pools", {
      name: values.name,
      signal_ids: [...signalChoice.selectedOptions].map((o) => Number(o.value)),
      symbols: (values.symbols || "").split(",").map((s) => s.trim()).filter(Boolean),
      logic: values.logic,
    });
    reload();
  });

  const strategies = [
    ...prompts.map((p) => [`prompt:${p.id}`, `prompt: ${p.name}`]),
    ...programs.map((p) => [`program:${p.id}`, `program: ${p.name}`]),
  ];
  const poolChoice = h("select", { name: "signal_pool_ids", multiple: true, size: Math.min(6, Math.max(2, overview.pools.length)) });
  for (const p of overview.pools) poolChoice.append(h("option", { value: String(p.id), text: p.name }));
  const bindingForm = h(
    "form",
    { id: "binding-form" },
    field("Trader", select("account_id", accounts.map((a) => [a.id, a.name]))),
    field("Strategy", select("strategy", strategies)),
    field("Signal pools", poolChoice, "Runs when one of them fires."),
    field("Run every (seconds)", input("trigger_interval", { type: "number", min: "30", max: "86400", value: "300" })),
    h("div", { class: "field check" }, h("input", { type: "checkbox", name: "scheduled_trigger_enabled", id: "binding-scheduled" }), h("label", { for: "binding-scheduled", text: "Also run on schedule" })),
    h("button", { type: "submit", text: "Add binding", disabled: accounts.length === 0 || strategies.length === 0 }),
  );
  submitForm(bindingForm, async (values) => {
    const [kind, id] = values.strategy.split(":");
    await post("/api/bindings", {
      account_id: Number(values.account_id),
      strategy_type: kind,
      [`${kind}_id`]: Number(id),
      signal_pool_ids: [...poolChoice.selectedOptions].map((o) => Number(o.value)),
      trigger_interval: Number(values.trigger_interval),
      scheduled_trigger_enabled: values.scheduled_trigger_enabled,
    });
    reload();
  });

  const names = new Map(accounts.map((a) => [a.id, a.name]));
  main.append(
    section(
      "Signals",
      table(
        "Signal definitions",
        ["Name", "Type", "Configuration", ""],
        overview.definitions.map((d) =>
          h("tr", {}, h("td", { text: d.name }), h("td", { text: d.type }), h("td", { class: "wrap" }, h("code", { text: JSON.stringify(d.config) })), h("td", {}, deleteButton(`signal ${d.name}`, `/api/signals/definitions/${d.id}`))),
        ),
        { id: "signals-table" },
      ),
      definitionForm,
    ),
    section(
      "Pools",
      table(
        "Signal pools",
        ["Name", "Signals", "Symbols", "Logic", "Last fired", ""],
        overview.pools.map((p) =>
          h("tr", {}, h("td", { text: p.name }), h("td", { text: String(p.signals_count) }), h("td", { text: p.symbols.join(", ") }), h("td", { text: p.logic }), h("td", { text: fmtTime(p.last_fired_at) }), h("td", {}, deleteButton(`pool ${p.name}`, `/api/signals/pools/${p.id}`))),
        ),
        { id: "pools-table" },
      ),
      poolForm,
    ),
    section(
      "Bindings",
      table(
        "Strategies bound to traders",
        ["Trader", "Strategy", "Pools", "Every (s)", "Active", ""],
        bindings.map((b) =>
          h(
            "tr",
            {},
            h("td", { text: names.get(b.account_id) || String(b.account_id) }),
            h("td", { text: `${b.strategy_type} #${b.prompt_id ?? b.program_id}` }),
            h("td", { text: b.signal_pool_ids.join(", ") || "–" }),
            h("td", { text: String(b.trigger_interval) }),
            h("td", { text: b.is_active ? "yes" : "no" }),
            h("td", {}, deleteButton(`binding ${b.id}`, `/api/bindings/${b.id}`)),
          ),
        ),
        { id: "bindings-table" },
      ),
      bindingForm,
    ),
  );
}
