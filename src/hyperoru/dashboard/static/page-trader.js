// One trader: figures, equity curve, candles with fills and TP/SL levels, positions,
// open orders, trades, decision log, controls, strategy/risk/model settings and a
// manual order ticket. Every read and write is a public /api route.

import { get, post, put } from "./api.js";
import { candleChart, equityChart } from "./charts.js";
import { decisionCard } from "./decisions.js";
import { clear, field, fmtMoney, fmtNumber, fmtSigned, fmtTime, h, input, section, select, signClass, table } from "./dom.js";
import { onPress, submitForm } from "./forms.js";
import { listen } from "./live.js";
import { statusBadge } from "./traders.js";

const OPEN = new Set(["pending", "open", "partially_filled"]);
// A burst of pushes (a fill, its position, a decision) refreshes the page once.
const REFRESH_MS = 1000;

export async function traderPage(main, { params, toast }) {
  const id = Number(params[0]);
  const base = `/api/account/${id}`;
  const title = h("h1", { id: "trader-name" });
  const badge = h("span", { id: "trader-status" });
  const controls = h("div", { class: "actions" });
  const figures = h("dl", { class: "figures", id: "trader-figures" });
  const equity = h("div", { id: "trader-equity-chart" });
  const candles = h("div", { id: "trader-candle-chart" });
  const candleNote = h("p", { class: "muted" });
  const symbolPick = select("candle_symbol", []);
  const positions = h("div", { id: "positions-holder" });
  const orders = h("div", { id: "orders-holder" });
  const trades = h("div", { id: "trades-holder" });
  const decisions = h("div", { id: "decision-log", class: "decisions" });
  const settings = h("div", { class: "grid" });

  main.append(
    h("div", { class: "title-row" }, title, badge, h("a", { href: `#/trader/${id}/live`, id: "trader-live-link", text: "Live trading and kill switch" })),
    controls,
    figures,
    section("Equity curve", equity),
    section("Candles", field("Symbol", symbolPick), candleNote, candles),
    section("Positions", positions),
    section("Open orders", orders),
    section("Manual order", orderTicket()),
    section("Trades", trades),
    section("Decision log", decisions),
    settings,
  );

  let account = await get(base);
  let strategy = await get(`${base}/strategy`);
  let fills = [];
  let openOrders = [];
  let allOrders = [];
  let heldPositions = [];

  function drawHeader() {
    title.textContent = account.name;
    clear(badge, statusBadge(account));
    const paused = account.status !== "active";
    const toggle = onPress(h("button", { type: "button", id: "pause-resume", text: paused ? "Resume" : "Pause" }), async () => {
      account = await put(base, { is_active: paused });
      drawHeader();
    });
    const runNow = onPress(h("button", { type: "button", id: "run-now", text: "Run now" }), async () => {
      addDecision(await post(`${base}/trigger`));
      toast("Decision cycle finished");
      await refresh();
    });
    clear(controls, toggle, runNow);
  }

  async function refresh() {
    const [overview, positionRows, orderRows, fillRows, curve] = await Promise.all([
      get(`${base}/overview`),
      get(`${base}/positions`),
      get(`/api/orders/account/${id}?limit=200`),
      get(`${base}/trades?limit=200`),
      get(`${base}/asset-curve?timeframe=5m`),
    ]);
    account = overview.account;
    fills = fillRows;
    allOrders = orderRows;
    heldPositions = positionRows;
    openOrders = orderRows.filter((order) => OPEN.has(order.status));
    drawHeader();
    const value = overview.equity ?? overview.total_assets;
    const pnl = Number(value) - Number(account.initial_capital);
    clear(
      figures,
      h("div", {}, h("dt", { text: "Equity" }), h("dd", { dataset: { field: "equity" }, text: fmtMoney(value) })),
      h("div", {}, h("dt", { text: "PnL" }), h("dd", { class: signClass(pnl), text: fmtSigned(pnl) })),
      h("div", {}, h("dt", { text: "Cash" }), h("dd", { text: fmtMoney(account.current_cash) })),
      h("div", {}, h("dt", { text: "Trades" }), h("dd", { text: String(overview.total_trades ?? fills.length) })),
      h("div", {}, h("dt", { text: "Model" }), h("dd", { text: `${account.llm_provider || "–"} / ${account.model || "–"}` })),
    );
    equityChart(equity, [{ name: account.name, points: curve, now: value }]);
    clear(
      positions,
      positionRows.length === 0
        ? h("p", { text: "No open positions." })
        : table(
            "Open positions",
            ["Symbol", "Side", "Size", "Entry", "Mark", "Leverage", "Liquidation", "Unrealised PnL"],
            positionRows.map((p) =>
              h(
                "tr",
                {},
                h("td", { text: p.symbol }),
                h("td", { text: p.side }),
                h("td", { class: "num", text: fmtNumber(p.size) }),
                h("td", { class: "num", text: fmtNumber(p.entry_price) }),
                h("td", { class: "num", text: fmtNumber(p.mark_price) }),
                h("td", { class: "num", text: `${p.leverage}×` }),
                h("td", { class: "num", text: fmtNumber(p.liquidation_price) }),
                h("td", { class: `num ${signClass(p.unrealized_pnl)}`, text: fmtSigned(p.unrealized_pnl) }),
              ),
            ),
          ),
    );
    clear(
      orders,
      openOrders.length === 0
        ? h("p", { text: "No open orders." })
        : table(
            "Open orders",
            ["Id", "Symbol", "Side", "Type", "Quantity", "Price", "TP", "SL", "Status", ""],
            openOrders.map((order) => {
              const cancel = onPress(h("button", { type: "button", class: "small", text: "Cancel", "aria-label": `Cancel order ${order.id}` }), async () => {
                await post(`/api/orders/cancel/${order.id}`);
                await refresh();
              });
              return h(
                "tr",
                { dataset: { orderId: order.id } },
                h("td", { text: String(order.id) }),
                h("td", { text: order.symbol }),
                h("td", { text: order.side }),
                h("td", { text: order.order_type }),
                h("td", { class: "num", text: fmtNumber(order.quantity) }),
                h("td", { class: "num", text: fmtNumber(order.price) }),
                h("td", { class: "num", text: fmtNumber(order.take_profit_price) }),
                h("td", { class: "num", text: fmtNumber(order.stop_loss_price) }),
                h("td", { text: order.status }),
                h("td", {}, cancel),
              );
            }),
          ),
    );
    clear(
      trades,
      fills.length === 0
        ? h("p", { text: "No trades yet." })
        : table(
            "Trades, newest first",
            ["Time", "Symbol", "Side", "Quantity", "Price", "Fee", "Realised PnL", "Liquidity"],
            fills.map((fill) =>
              h(
                "tr",
                { dataset: { fillId: fill.id } },
                h("td", { text: fmtTime(fill.time) }),
                h("td", { text: fill.symbol }),
                h("td", { text: fill.side }),
                h("td", { class: "num", text: fmtNumber(fill.quantity) }),
                h("td", { class: "num", text: fmtNumber(fill.price) }),
                h("td", { class: "num", text: fmtNumber(fill.fee) }),
                h("td", { class: `num ${signClass(fill.realized_pnl)}`, text: fmtSigned(fill.realized_pnl) }),
                h("td", { text: `${fill.liquidity || ""}${fill.is_liquidation ? " (liquidation)" : ""}` }),
              ),
            ),
            { id: "trades-table" },
          ),
    );
    await drawCandles();
  }

  async function drawCandles() {
    const symbols = strategy.symbols.length ? strategy.symbols : [...new Set(fills.map((fill) => fill.symbol))];
    symbolPick.disabled = symbols.length === 0;
    candles.hidden = symbols.length === 0;
    candleNote.textContent = symbols.length ? "" : "Give the trader symbols in its strategy to see candles.";
    if (symbols.length === 0) return;
    const chosen = symbols.includes(symbolPick.value) ? symbolPick.value : symbols[0];
    clear(symbolPick, ...symbols.map((symbol) => h("option", { value: symbol, text: symbol })));
    symbolPick.value = chosen;
    const rows = await get(`/api/klines/data?symbol=${encodeURIComponent(chosen)}&interval=5m&limit=150`);
    // TP/SL levels: those of open orders, and those attached to the orders that built the
    // position still held (their trigger orders are armed while it lasts).
    const held = heldPositions.find((position) => position.symbol === chosen);
    const levels = allOrders
      .filter(
        (order) =>
          order.symbol === chosen &&
          (OPEN.has(order.status) ||
            (held && order.status === "filled" && order.updated_at >= held.opened_at)),
      )
      .flatMap((order) => [
        order.take_profit_price ? { kind: "tp", price: order.take_profit_price } : null,
        order.stop_loss_price ? { kind: "sl", price: order.stop_loss_price } : null,
      ])
      .filter(Boolean);
    candleChart(candles, chosen, rows, fills.filter((fill) => fill.symbol === chosen), levels);
  }
  symbolPick.addEventListener("change", () => drawCandles().catch((error) => toast(error.message)));

  function addDecision(decision) {
    if (decisions.querySelector(`[data-decision-id="${decision.id}"]`)) return;
    decisions.querySelector(".empty")?.remove();
    decisions.prepend(decisionCard(decision));
  }

  function orderTicket() {
    const quantity = input("quantity", { type: "number", step: "any", min: "0", required: true });
    const form = h(
      "form",
      { id: "order-ticket", class: "inline-form" },
      field("Symbol", input("symbol", { required: true, value: "BTC", autocapitalize: "characters" })),
      field("Side", select("side", [["buy", "Buy / long"], ["sell", "Sell / short"]])),
      field("Order type", select("order_type", ["market", "limit"])),
      field("Quantity (base units)", quantity),
      field("Limit price", input("price", { type: "number", step: "any", min: "0" }), "Limit orders only."),
      field("Leverage", input("leverage", { type: "number", min: "1", step: "1" })),
      field("Take-profit price", input("take_profit_price", { type: "number", step: "any", min: "0" })),
      field("Stop-loss price", input("stop_loss_price", { type: "number", step: "any", min: "0" })),
      h("div", { class: "field check" }, h("input", { type: "checkbox", name: "reduce_only", id: "ticket-reduce" }), h("label", { for: "ticket-reduce", text: "Reduce only" })),
      h("button", { type: "submit", text: "Place order" }),
    );
    return submitForm(form, async (values) => {
      const body = { account_id: id, symbol: values.symbol.toUpperCase(), side: values.side, order_type: values.order_type, quantity: Number(values.quantity), reduce_only: values.reduce_only };
      for (const name of ["price", "take_profit_price", "stop_loss_price"]) if (values[name]) body[name] = Number(values[name]);
      if (values.leverage) body.leverage = Number(values.leverage);
      const order = await post("/api/orders/create", body);
      const result = await post(`/api/orders/execute/${order.id}`);
      toast(`Order ${order.id}: ${result.execution_status}${result.reject_code ? ` (${result.reject_code})` : ""}`);
      await refresh();
    });
  }

  async function drawSettings() {
    const [prompts, programs] = await Promise.all([get("/api/prompts/"), get("/api/programs/")]);
    clear(settings, strategyForm(prompts, programs), riskForm(), modelForm());
  }

  function strategyForm(prompts, programs) {
    const form = h(
      "form",
      { id: "strategy-form" },
      field("Prompt template", select("prompt_id", [["", "none"], ...prompts.map((p) => [p.id, p.name])], strategy.prompt_id ?? "")),
      field("Program", select("program_id", [["", "none"], ...programs.map((p) => [p.id, p.name])], strategy.program_id ?? "")),
      field("Symbols", input("symbols", { value: strategy.symbols.join(", ") }), "Comma-separated coins, e.g. BTC, ETH."),
      field("Run every (seconds)", input("trigger_interval", { type: "number", min: "30", max: "86400", value: String(strategy.trigger_interval) })),
      h("div", { class: "field check" }, h("input", { type: "checkbox", name: "scheduled_trigger_enabled", id: "strategy-scheduled", checked: strategy.scheduled_trigger_enabled }), h("label", { for: "strategy-scheduled", text: "Run on schedule" })),
      h("button", { type: "submit", text: "Save strategy" }),
    );
    submitForm(form, async (values) => {
      const body = {
        symbols: (values.symbols || "").split(",").map((s) => s.trim()).filter(Boolean),
        trigger_interval: Number(values.trigger_interval),
        scheduled_trigger_enabled: values.scheduled_trigger_enabled,
      };
      if (values.program_id) body.program_id = Number(values.program_id);
      else if (values.prompt_id) body.prompt_id = Number(values.prompt_id);
      strategy = await put(`${base}/strategy`, body);
      toast("Strategy saved");
      await drawCandles();
    });
    return section("Strategy", form);
  }

  function riskForm() {
    const form = h(
      "form",
      { id: "risk-form" },
      field("Default leverage", input("default_leverage", { type: "number", min: "1", max: "50", value: String(account.default_leverage) })),
      field("Max leverage", input("max_leverage", { type: "number", min: "1", max: "50", value: String(account.max_leverage) })),
      field("Max position notional (USD)", input("max_position_notional", { type: "number", step: "any", min: "0", value: account.max_position_notional ?? "" })),
      field("Max open positions", input("max_open_positions", { type: "number", min: "1", max: "1000", value: account.max_open_positions ?? "" })),
      h("button", { type: "submit", text: "Save risk limits" }),
    );
    submitForm(form, async (values) => {
      const body = {};
      for (const [key, value] of Object.entries(values)) body[key] = Number(value);
      account = await put(base, body);
      return "Risk limits saved";
    });
    return section("Risk", form);
  }

  function modelForm() {
    const keyState = account.has_api_key ? `A key ending in ${account.api_key_hint || "…"} is stored.` : "No key stored.";
    const form = h(
      "form",
      { id: "model-form" },
      field("Provider", input("llm_provider", { value: account.llm_provider || "" })),
      field("Model", input("llm_model", { value: account.llm_model || "" })),
      field("Base URL", input("llm_base_url", { type: "url", value: account.llm_base_url || "" })),
      field(
        "API key",
        input("llm_api_key", { type: "password", autocomplete: "off" }),
        `${keyState} The key is write-only: type a new one to replace it.`,
      ),
      h("button", { type: "submit", text: "Save model" }),
    );
    submitForm(form, async (values) => {
      account = await put(base, values);
      settings.lastChild.replaceWith(modelForm());
      return "Model settings saved";
    });
    return h("div", {}, section("Model", form));
  }

  drawHeader();
  await refresh();
  const history = await get(`${base}/decisions?limit=20`);
  if (history.length === 0) decisions.append(h("p", { class: "empty", text: "No decisions yet." }));
  for (const decision of history.reverse()) addDecision(decision);
  await drawSettings();

  let timer = null;
  const stop = listen((push) => {
    if (push.account_id !== id) return;
    if (push.type === "model_chat_update") addDecision(push.data);
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        refresh().catch((error) => toast(error.message));
      }, REFRESH_MS);
    }
  });
  return () => {
    stop();
    if (timer !== null) clearTimeout(timer);
  };
}
