// Traders overview: every trader with status, equity, PnL, open positions and last
// decision; all equity curves on one chart; recent fills; updated live from /ws.

import { get, post } from "./api.js";
import { equityChart } from "./charts.js";
import { clear, field, fmtMoney, fmtNumber, fmtSigned, fmtTime, h, input, section, select, signClass, table } from "./dom.js";
import { submitForm } from "./forms.js";
import { listen } from "./live.js";
import { decisionSummary, statusBadge, traderSummary } from "./traders.js";

const MAX_FILLS = 30;
// A burst of pushes (a fill, its position, the curve) refreshes a trader once; the API
// budget per user (1200 requests a minute) stays far away with many traders.
const REFRESH_MS = 1000;

export async function tradersPage(main, { navigate }) {
  main.append(h("h1", { text: "Traders" }));
  const tableHolder = h("div", { id: "traders-holder" });
  const chart = h("div", { id: "equity-chart" });
  const fillsList = h("ol", { id: "recent-fills", class: "feed" });
  main.append(
    section("All traders", tableHolder),
    section("Equity", chart),
    section("Recent fills", fillsList),
    section("New trader", newTraderForm(navigate)),
  );

  const accounts = await get("/api/account/list");
  const summaries = new Map();
  await Promise.all(
    accounts.map(async (account) => summaries.set(account.id, await traderSummary(account))),
  );

  function drawTable() {
    const rows = accounts.map((account) => {
      const one = summaries.get(account.id);
      const equity = one.overview.equity ?? one.overview.total_assets;
      const pnl = Number(equity) - Number(one.account.initial_capital);
      return h(
        "tr",
        { dataset: { traderId: account.id } },
        h("th", { scope: "row" }, h("a", { href: `#/trader/${account.id}`, text: one.account.name })),
        h("td", {}, statusBadge(one.account)),
        h("td", { class: "num", dataset: { field: "equity" }, text: fmtMoney(equity) }),
        h("td", { class: `num ${signClass(pnl)}`, dataset: { field: "pnl" }, text: fmtSigned(pnl) }),
        h(
          "td",
          { dataset: { field: "positions" } },
          one.positions.length === 0
            ? "none"
            : one.positions.map((p) => `${p.side} ${fmtNumber(p.size)} ${p.symbol}`).join(", "),
        ),
        h(
          "td",
          { class: "wrap", dataset: { field: "decision" } },
          one.lastDecision ? `${fmtTime(one.lastDecision.created_at)}: ` : "",
          decisionSummary(one.lastDecision),
        ),
      );
    });
    clear(
      tableHolder,
      accounts.length === 0
        ? h("p", { text: "No traders yet: create one below." })
        : table("Every trader of this user", ["Trader", "Status", "Equity", "PnL", "Open positions", "Last decision"], rows, {
            id: "traders-table",
          }),
    );
  }

  function drawChart() {
    equityChart(
      chart,
      accounts.map((account) => {
        const one = summaries.get(account.id);
        return { name: account.name, points: one.curve, now: one.overview.equity ?? one.overview.total_assets };
      }),
    );
  }

  function addFill(accountId, fill) {
    if (fillsList.querySelector(`[data-fill-id="${CSS.escape(String(fill.id))}"]`)) return;
    const name = summaries.get(accountId)?.account.name || `Trader ${accountId}`;
    const item = h(
      "li",
      { dataset: { fillId: fill.id, traderId: accountId } },
      h("time", { datetime: fill.time, text: fmtTime(fill.time) }),
      ` ${name}: ${fill.side} ${fmtNumber(fill.quantity)} ${fill.symbol} @ ${fmtNumber(fill.price)}`,
      fill.realized_pnl && Number(fill.realized_pnl) !== 0 ? ` (PnL ${fmtSigned(fill.realized_pnl)})` : "",
    );
    fillsList.prepend(item);
    while (fillsList.children.length > MAX_FILLS) fillsList.lastChild.remove();
  }

  const recent = await Promise.all(
    accounts.map(async (account) => [account.id, await get(`/api/account/${account.id}/trades?limit=10`)]),
  );
  const initial = recent.flatMap(([id, fills]) => fills.map((fill) => [id, fill]));
  initial.sort((a, b) => String(a[1].time).localeCompare(String(b[1].time)));
  for (const [id, fill] of initial) addFill(id, fill);
  drawTable();
  if (accounts.length) drawChart();

  // Refresh one trader's figures at most once per burst of pushes.
  const pending = new Map();
  function refresh(accountId) {
    if (pending.has(accountId) || !summaries.has(accountId)) return;
    pending.set(
      accountId,
      setTimeout(async () => {
        pending.delete(accountId);
        const account = accounts.find((one) => one.id === accountId);
        summaries.set(accountId, await traderSummary(account));
        drawTable();
        drawChart();
      }, REFRESH_MS),
    );
  }

  const stop = listen((push) => {
    if (!summaries.has(push.account_id)) return;
    if (push.type === "trade_update") addFill(push.account_id, push.data);
    refresh(push.account_id);
  });
  return () => {
    stop();
    for (const timer of pending.values()) clearTimeout(timer);
  };
}

function newTraderForm(navigate) {
  const form = h(
    "form",
    { id: "new-trader-form" },
    field("Name", input("name", { required: true, maxLength: 64 })),
    field(
      "Model provider",
      select("llm_provider", [
        ["builtin", "builtin (offline rules, no key)"],
        ["openai", "openai"],
        ["anthropic", "anthropic"],
        ["deepseek", "deepseek"],
        ["google", "google"],
        ["ollama", "ollama"],
      ]),
    ),
    field("Model", input("llm_model", { placeholder: "e.g. gpt-4o-mini" })),
    field("Initial capital (USD)", input("initial_capital", { type: "number", min: "1", step: "any", value: "10000" })),
    h("button", { type: "submit", text: "Create trader" }),
  );
  return submitForm(form, async (values) => {
    if (values.initial_capital) values.initial_capital = Number(values.initial_capital);
    const created = await post("/api/account/", values);
    navigate(`#/trader/${created.id}`);
    return `Trader ${created.name} created`;
  });
}
