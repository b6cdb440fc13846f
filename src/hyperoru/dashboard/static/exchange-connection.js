// A trader's exchange connection (PUT/GET/DELETE /api/account/{id}/exchange): what the API
// shows of it (addresses, a key hint, never a key or secret) and the write-only form that
// replaces it. Saving and removing need a fresh two-factor code.

import { api, get, put } from "./api.js";
import { clear, field, fmtTime, h, input, section, select } from "./dom.js";
import { submitForm } from "./forms.js";

const ENVIRONMENTS = {
  hyperliquid: [["testnet", "Testnet (practice)"], ["mainnet", "Mainnet (real money)"]],
  binance: [["demo", "Demo trading (practice)"], ["testnet", "Futures testnet (practice)"], ["mainnet", "Mainnet (real money)"]],
};

function secretInput(name, label, hint) {
  // Write-only: never filled from the API, never remembered by the browser.
  return field(label, input(name, { type: "password", autocomplete: "off", spellcheck: false, required: true }), hint);
}

export function codeField(name = "totp_code") {
  return field(
    "Two-factor code",
    input(name, { inputmode: "numeric", autocomplete: "one-time-code", required: true, maxLength: 64 }),
    "The current code from your authenticator (set it up on the Security page).",
  );
}

// A refused two-factor code is shown at the code field (forms.js fieldFor).
export const CODE_REFUSED = { INVALID_TOTP: "totp_code" };

function shown(connection) {
  if (!connection.connected) return h("p", { id: "exchange-state", text: "Not connected: this trader can trade on paper only." });
  const rows = [
    ["Exchange", connection.exchange],
    ["Environment", connection.environment],
    ["Account address", connection.master_address],
    ["API wallet address", connection.agent_address],
    ["API key", connection.api_key_hint ? `…${connection.api_key_hint}` : null],
    ["Checked with the venue", fmtTime(connection.validated_at)],
  ].filter(([, value]) => value);
  return h(
    "div",
    { id: "exchange-state" },
    h("dl", { class: "pairs" }, rows.flatMap(([label, value]) => [h("dt", { text: label }), h("dd", { text: value })])),
    connection.problems.length ? h("ul", { class: "error" }, connection.problems.map((p) => h("li", { text: p }))) : null,
  );
}

// ``onChange(connection)`` after a save or removal.
export function exchangeSection({ id, connection, onChange }) {
  const base = `/api/account/${id}/exchange`;
  const state = h("div");
  const exchange = select("exchange", [["hyperliquid", "Hyperliquid"], ["binance", "Binance USDⓈ-M futures"]], connection.exchange || "hyperliquid");
  const environment = select("environment", []);
  const keys = h("div");
  const form = h("form", { id: "exchange-credentials-form" }, field("Exchange", exchange), field("Environment", environment), keys, codeField(), h("button", { type: "submit", text: "Check and save" }));

  function drawKeys() {
    clear(environment, ...ENVIRONMENTS[exchange.value].map(([value, text]) => h("option", { value, text })));
    if (connection.exchange === exchange.value && connection.environment) environment.value = connection.environment;
    if (exchange.value === "hyperliquid") {
      clear(
        keys,
        field("Account address", input("master_address", { required: true, spellcheck: false, pattern: "0x[0-9a-fA-F]{40}", value: connection.master_address || "" }), "Your own account's address (0x…), not the API wallet's."),
        secretInput("agent_private_key", "API wallet private key", "The key of an API (agent) wallet approved for that account: it can trade, never withdraw. Never your own wallet's key."),
      );
    } else {
      clear(
        keys,
        secretInput("api_key", "API key", "A key with futures trading only: no withdrawals."),
        secretInput("api_secret", "API secret"),
      );
    }
  }
  exchange.addEventListener("change", drawKeys);
  submitForm(
    form,
    async (values) => {
      connection = await put(base, values);
      redraw();
      await onChange(connection);
      return "Exchange connection checked and saved";
    },
    { fieldFor: CODE_REFUSED },
  );

  const removeForm = h("form", { id: "exchange-remove-form", class: "inline-form" }, codeField(), h("button", { type: "submit", class: "danger", text: "Remove connection" }));
  submitForm(
    removeForm,
    async (values) => {
      // The code in the body: query strings end up in logs.
      await api("DELETE", base, { totp_code: values.totp_code });
      connection = await get(base);
      removeForm.reset();
      redraw();
      await onChange(connection);
      return "Exchange connection removed";
    },
    { fieldFor: CODE_REFUSED },
  );

  const replace = h("details", {}, h("summary"), form);
  const remove = h("details", {}, h("summary", { text: "Remove the connection" }), removeForm);
  function drawState() {
    clear(state, shown(connection));
    replace.open = !connection.connected;
    replace.firstChild.textContent = connection.connected ? "Replace the connection" : "Connect an exchange account";
    remove.hidden = !connection.connected;
  }
  // After a change: the form empty again (keys are never kept), set to what is stored.
  function redraw() {
    form.reset();
    exchange.value = connection.exchange || "hyperliquid";
    drawKeys();
    drawState();
  }

  redraw();
  return section("Exchange connection", state, replace, remove);
}
