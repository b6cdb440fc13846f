// Which events the bots tell (GET/PUT /api/bot/notification-config) and the global
// on/off switch (PUT /api/bot/status).

import { put } from "./api.js";
import { field, h, input, section } from "./dom.js";
import { submitForm } from "./forms.js";

const EVENTS = [
  ["trade_notifications", "A trade fills"],
  ["position_closed_notifications", "A position closes (with PnL and why)"],
  ["signal_notifications", "A signal pool fires"],
  ["error_notifications", "A decision cycle fails"],
  ["paused_notifications", "A trader is paused after failures"],
  ["daily_summary", "A daily summary"],
];

function labelled(name, label, checked) {
  const id = `pref-${name}`;
  return h("div", { class: "field check" }, h("input", { type: "checkbox", name, id, checked }), h("label", { for: id, text: label }));
}

export function preferencesSection(config, toast) {
  const enabled = labelled("enabled", "Send notifications at all", config.enabled);
  enabled.querySelector("input").addEventListener("change", async (event) => {
    try {
      await put("/api/bot/status", { enabled: event.target.checked });
      toast(event.target.checked ? "Notifications on" : "Notifications off");
    } catch (error) {
      event.target.checked = !event.target.checked;
      toast(error.message);
    }
  });
  const form = h(
    "form",
    { id: "prefs-form" },
    h("fieldset", {}, h("legend", { text: "Tell me when" }), EVENTS.map(([name, label]) => labelled(name, label, config[name]))),
    h(
      "div",
      { class: "grid" },
      field("Daily summary at", input("daily_summary_time", { type: "time", value: config.daily_summary_time, required: true })),
      field("Time zone", input("time_zone", { value: config.time_zone, required: true, maxLength: 64 }), "IANA name, e.g. Europe/Paris"),
      field("Minimum PnL to tell a closed position", input("min_pnl_threshold", { type: "number", min: "0", step: "any", value: config.min_pnl_threshold, required: true })),
    ),
    h("button", { type: "submit", text: "Save preferences" }),
  );
  submitForm(form, async () => {
    const body = {};
    for (const [name] of EVENTS) body[name] = form.elements[name].checked;
    for (const name of ["daily_summary_time", "time_zone", "min_pnl_threshold"]) body[name] = form.elements[name].value;
    await put("/api/bot/notification-config", body);
    return "Preferences saved";
  });
  return section("Notifications", enabled, form);
}
