// One trader's live trading: its exchange connection, the switch between paper and live
// (a fresh two-factor code to go live), its live limits, what the venue holds (balances and
// positions), the differences reconciliation found, and its kill switch.
// Every route is public /api (docs/LIVE_TRADING.md); nothing here decides what is safe.

import { get, put } from "./api.js";
import { clear, field, fmtMoney, fmtNumber, fmtSigned, fmtTime, h, input, section, signClass, table } from "./dom.js";
import { CODE_REFUSED, codeField, exchangeSection } from "./exchange-connection.js";
import { submitForm } from "./forms.js";
import { killSwitchSection } from "./kill-switch.js";
import { listen } from "./live.js";

// A burst of pushes (an order, its fill, the position) refreshes the venue view once.
const REFRESH_MS = 1000;
const LIMITS = [
  ["max_order_notional", "Max order notional (USD)"],
  ["max_position_notional", "Max position notional (USD)"],
  ["max_daily_loss", "Max daily loss (USD)"],
];

export async function livePage(main, { params, toast }) {
  const id = Number(params[0]);
  const base = `/api/account/${id}`;
  const [account, connection, profile] = await Promise.all([get(base), get(`${base}/exchange`), get("/api/users/profile")]);
  let trader = account;
  let connected = connection;
  const mode = h("div", { id: "live-mode" });
  const venue = h("div", { id: "venue-state" });
  const events = h("div", { id: "reconciliation-events" });

  const mfaMissing = h("p", { class: "error", role: "alert", id: "mfa-missing" }, "Two-factor is off: connecting an exchange and going live need it. ", h("a", { href: "#/security", text: "Set it up" }), ".");
  mfaMissing.hidden = profile.mfa_enabled;
  main.append(
    h("h1", { text: `Live trading: ${trader.name}` }),
    h("p", {}, h("a", { href: `#/trader/${id}`, text: "Back to the trader" })),
    mfaMissing,
    section("Execution", mode),
    exchangeSection({ id, connection, onChange: (changed) => (connected = changed) }),
    limitsSection(),
    section("At the venue", venue),
    section("Reconciliation", events),
    killSwitchSection({ prefix: "trader-kill", what: "this trader", url: `${base}/kill`, onDone: refresh }),
  );

  function drawMode() {
    const live = trader.execution_mode === "live";
    const summary = h(
      "p",
      { id: "execution-mode", dataset: { mode: trader.execution_mode } },
      live ? `Live on ${trader.exchange}${trader.hyperliquid_environment ? ` (${trader.hyperliquid_environment})` : ""}: orders go to the exchange.` : "Paper: orders are simulated; nothing reaches an exchange.",
    );
    const form = live
      ? h("form", { id: "live-switch-form", class: "actions" }, h("button", { type: "submit", text: "Switch back to paper" }))
      : h("form", { id: "live-switch-form", class: "inline-form" }, codeField(), h("button", { type: "submit", class: "danger", text: "Switch to live" }));
    const send = async (values) => {
      const body = live ? { execution_mode: "paper" } : { execution_mode: "live", totp_code: values.totp_code };
      // Live goes to the exchange the trader is connected to.
      if (!live && connected.connected) body.exchange = connected.exchange;
      trader = await put(base, body);
      toast(live ? "Back on paper" : "The trader now trades live");
      drawMode();
      await refresh();
    };
    submitForm(form, send, { fieldFor: CODE_REFUSED });
    clear(mode, summary, form);
  }

  function limitsSection() {
    const flatten = h("input", { type: "checkbox", name: "flatten_on_daily_loss", id: "limits-flatten", checked: trader.flatten_on_daily_loss });
    const form = h(
      "form",
      { id: "live-limits-form" },
      LIMITS.map(([name, label]) => field(label, input(name, { type: "number", step: "any", min: "0", value: trader[name] ?? "" }))),
      field("Allowed symbols", input("allowed_symbols", { value: (trader.allowed_symbols || []).join(", ") }), "Comma-separated; empty allows every symbol."),
      h("div", { class: "field check" }, flatten, h("label", { for: flatten.id, text: "Close every position when the daily loss limit is reached" })),
      h("button", { type: "submit", text: "Save limits" }),
    );
    submitForm(form, async (values) => {
      const body = { flatten_on_daily_loss: values.flatten_on_daily_loss };
      // An empty field lifts that limit (null clears it).
      for (const [name] of LIMITS) body[name] = values[name] ? Number(values[name]) : null;
      const symbols = (values.allowed_symbols || "").split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
      body.allowed_symbols = symbols.length ? symbols : null;
      trader = await put(base, body);
      return "Limits saved";
    });
    return section("Limits checked before every order", form);
  }

  async function refresh() {
    const [state, page, found] = await Promise.all([
      get(`/api/${trader.exchange}/account/${id}/state`),
      get(`/api/${trader.exchange}/accounts/${id}/positions`),
      get(`${base}/reconciliation?limit=50`),
    ]);
    const figure = (label, value, name) => h("div", {}, h("dt", { text: label }), h("dd", { dataset: { field: name }, text: value }));
    clear(
      venue,
      h("p", { class: "muted", text: `${state.environment === "paper" ? "Paper ledger" : `Venue reading (${trader.exchange}${state.environment ? `, ${state.environment}` : ""})`} taken ${fmtTime(state.taken_at)}` }),
      h(
        "dl",
        { class: "figures", id: "venue-figures" },
        figure("Balance", fmtMoney(state.balance_total), "balance_total"),
        figure("Available", fmtMoney(state.balance_available), "balance_available"),
        figure("Margin used", fmtMoney(state.margin_used), "margin_used"),
        figure("Unrealised PnL", fmtSigned(state.unrealized_pnl), "unrealized_pnl"),
        figure("Positions value", fmtMoney(state.positions_value), "positions_value"),
      ),
      page.positions.length === 0
        ? h("p", { text: "No open positions." })
        : table(
            `Positions (${page.total_count}), unrealised PnL ${fmtSigned(page.total_unrealized_pnl)}`,
            ["Symbol", "Side", "Size", "Entry", "Mark", "Leverage", "Margin", "Liquidation", "Unrealised PnL"],
            page.positions.map((p) =>
              h(
                "tr",
                {},
                h("td", { text: p.symbol }),
                h("td", { text: p.side }),
                h("td", { class: "num", text: fmtNumber(p.size) }),
                h("td", { class: "num", text: fmtNumber(p.entry_price) }),
                h("td", { class: "num", text: fmtNumber(p.mark_price) }),
                h("td", { class: "num", text: `${p.leverage}× ${p.margin_mode}` }),
                h("td", { class: "num", text: fmtMoney(p.margin_used) }),
                h("td", { class: "num", text: fmtNumber(p.liquidation_price) }),
                h("td", { class: `num ${signClass(p.unrealized_pnl)}`, text: fmtSigned(p.unrealized_pnl) }),
              ),
            ),
            { id: "venue-positions" },
          ),
    );
    clear(
      events,
      found.length === 0
        ? h("p", { text: "No differences found between this server and the venue." })
        : table(
            "Differences, newest first",
            ["Time", "Kind", "Order", "What"],
            found.map((event) =>
              h(
                "tr",
                {},
                h("td", { text: fmtTime(event.created_at) }),
                h("td", { text: event.kind }),
                h("td", { text: event.order_id === null ? "–" : `#${event.order_id}` }),
                h("td", { class: "wrap", text: event.message }),
              ),
            ),
          ),
    );
  }

  drawMode();
  await refresh();
  let timer = null;
  const stop = listen((push) => {
    if (push.account_id !== id || timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      refresh().catch((error) => toast(error.message));
    }, REFRESH_MS);
  });
  return () => {
    stop();
    if (timer !== null) clearTimeout(timer);
  };
}
