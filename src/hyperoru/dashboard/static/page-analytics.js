// Analytics (/api/analytics, docs/ANALYTICS.md): the summary of all traders or of one
// (`#/analytics?trader=ID`: the summary, breakdowns, AI attribution and factors all pass it
// on as `account_id`), the traders compared, equity and drawdown, breakdowns by symbol,
// strategy, operation and trigger, AI attribution, and factors when the engine is on.

import { attributionParts } from "./analytics-attribution.js";
import { fmtRatio, fmtShare, statsTable } from "./analytics-tables.js";
import { get } from "./api.js";
import { drawdownChart, equityChart } from "./charts.js";
import { field, fmtMoney, fmtNumber, fmtPct, fmtSigned, h, section, select, table } from "./dom.js";
import { sortableTable } from "./sortable.js";

const DAYS = [1, 7, 30, 90, 365];
const PERIODS = [["1h", "Hourly (8760 a year)"], ["1d", "Daily (365 a year)"], ["1w", "Weekly (52 a year)"]];

const fmtHours = (value) => (value === null || value === undefined ? "–" : `${fmtNumber(value, 1)} h`);

// The summary's figures: [field, label, format].
const FIGURES = [
  ["total_pnl", "Total PnL", fmtSigned],
  ["total_trades", "Closed trades", String],
  ["win_rate", "Win rate", fmtShare],
  ["profit_factor", "Profit factor", fmtRatio],
  ["sharpe_ratio", "Sharpe ratio", fmtRatio],
  ["sortino_ratio", "Sortino ratio", fmtRatio],
  ["max_drawdown_pct", "Max drawdown", fmtPct],
  ["annualized_return", "Annualised return", fmtShare],
  ["annual_volatility", "Annual volatility", fmtShare],
  ["calmar_ratio", "Calmar ratio", fmtRatio],
  ["best_trade_pnl", "Best trade", fmtSigned],
  ["worst_trade_pnl", "Worst trade", fmtSigned],
  ["avg_return_pct", "Average trade return", fmtPct],
  ["avg_trade_duration_hours", "Average holding time", fmtHours],
  ["fees_paid", "Fees paid", fmtMoney],
];

// The window's time-weighted return: the summary's path from its first to its last value.
function windowReturn(summary) {
  const { start_equity: start, end_equity: end } = summary.returns;
  return start && end !== null ? (end / start - 1) * 100 : null;
}

// The finest asset-curve buckets that still cover the window in one page (1000 points).
function curveQuery(days) {
  const [timeframe, perDay] = days <= 3 ? ["5m", 288] : days <= 41 ? ["1h", 24] : ["1d", 1];
  return `timeframe=${timeframe}&limit=${Math.min(1000, days * perDay)}`;
}

// The factor engine is a server setting: ask first, so an engine that is off means a note
// (null), not a refused request.
async function factorRows(query) {
  const status = await get("/api/factors/status");
  return status.enabled ? get(`/api/analytics/by-factor?${query}`) : null;
}

// While one trader is chosen: say so on top, with the way back to all of them.
function filterNote(name, chosen) {
  const all = new URLSearchParams({ days: chosen.days, period: chosen.period });
  return h(
    "p",
    { id: "analytics-filter", class: "card title-row" },
    h("span", { class: "badge paused", text: `Filtered to trader ${name}` }),
    h("span", { text: "The figures, breakdowns, AI attribution and factors below count its trades only." }),
    h("a", { href: `#/analytics?${all}`, id: "analytics-clear-filter", text: "Show all traders" }),
  );
}

function figures(summary) {
  return h(
    "dl",
    { class: "figures", id: "analytics-figures" },
    FIGURES.map(([key, label, format]) =>
      h("div", { dataset: { metric: key } }, h("dt", { text: label }), h("dd", { text: format(summary[key]) })),
    ),
  );
}

function controls(accounts, chosen, navigate) {
  const trader = select("trader", [["", "All traders"], ...accounts.map((a) => [a.id, a.name])], chosen.trader);
  const days = select("days", DAYS.map((d) => [d, d === 1 ? "1 day" : `${d} days`]), chosen.days);
  const period = select("period", PERIODS, chosen.period);
  const form = h(
    "form",
    { id: "analytics-controls", class: "inline-form" },
    field("Trader", trader),
    field("Lookback", days),
    field("Return period", period),
    h("button", { type: "submit", text: "Show" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams({ days: days.value, period: period.value });
    if (trader.value) query.set("trader", trader.value);
    navigate(`#/analytics?${query}`);
  });
  return form;
}

function comparison(accounts, summaries) {
  const rows = accounts.map((account, i) => ({ account, summary: summaries[i], twr: windowReturn(summaries[i]) }));
  return sortableTable(
    "Your traders side by side (press a heading to sort)",
    [
      { heading: "Trader", value: (r) => r.account.name, text: (r) => r.account.name },
      { heading: "Sharpe", key: "sharpe_ratio", value: (r) => r.summary.sharpe_ratio, text: (r) => fmtRatio(r.summary.sharpe_ratio) },
      { heading: "Return", key: "return", value: (r) => r.twr, text: (r) => fmtPct(r.twr) },
      { heading: "Max drawdown", key: "max_drawdown_pct", value: (r) => r.summary.max_drawdown_pct, text: (r) => fmtPct(r.summary.max_drawdown_pct) },
      { heading: "PnL", key: "total_pnl", value: (r) => r.summary.total_pnl, text: (r) => fmtSigned(r.summary.total_pnl) },
      { heading: "Trades", key: "total_trades", value: (r) => r.summary.total_trades, text: (r) => String(r.summary.total_trades) },
      { heading: "Win rate", key: "win_rate", value: (r) => r.summary.win_rate, text: (r) => fmtShare(r.summary.win_rate) },
    ],
    rows,
    { id: "traders-compared", sortBy: "Sharpe", rowKey: (r) => String(r.account.id) },
  );
}

function factorTable(rows) {
  if (rows === null) {
    return h("p", { class: "muted", id: "factors-off", text: "The factor engine is off on this server, so trades are not ranked by factor. The operator turns it on with HYPERORU_FACTOR_ENGINE=enabled." });
  }
  if (rows.every((row) => row.trades === 0)) return h("p", { class: "muted", text: "No closed trades to rank factors against yet." });
  return table(
    "Built-in factors at your trades' entries against their outcome (best first)",
    ["Rank", "Factor", "Category", "Rank IC", "IC", "Aligned trades", "Aligned PnL", "Opposed trades", "Opposed PnL"],
    rows.slice(0, 15).map((row) =>
      h(
        "tr",
        {},
        h("td", { class: "num", text: String(row.rank) }),
        h("th", { scope: "row", text: row.factor_name }),
        h("td", { text: row.category }),
        h("td", { class: "num", text: fmtRatio(row.rank_ic) }),
        h("td", { class: "num", text: fmtRatio(row.ic) }),
        h("td", { class: "num", text: String(row.aligned_trades) }),
        h("td", { class: "num", text: fmtSigned(row.aligned_pnl) }),
        h("td", { class: "num", text: String(row.opposed_trades) }),
        h("td", { class: "num", text: fmtSigned(row.opposed_pnl) }),
      ),
    ),
    { id: "by-factor" },
  );
}

export async function analyticsPage(main, { params, navigate }) {
  const query = new URLSearchParams(params[0] || "");
  const chosen = { trader: query.get("trader") || "", days: Number(query.get("days")) || 30, period: query.get("period") || "1d" };
  const span = `days=${chosen.days}&period=${chosen.period}`;
  const scope = new URLSearchParams({ days: chosen.days, period: chosen.period });
  if (chosen.trader) scope.set("account_id", chosen.trader);
  const accounts = await get("/api/account/list");
  const shown = chosen.trader ? accounts.filter((a) => String(a.id) === chosen.trader) : accounts;
  const [summary, summaries, bySymbol, byStrategy, byOperation, byTrigger, attribution, byFactor, curves] = await Promise.all([
    get(`/api/analytics/summary?${scope}`),
    Promise.all(accounts.map((a) => get(`/api/analytics/summary?${span}&account_id=${a.id}`))),
    get(`/api/analytics/by-symbol?${scope}`),
    get(`/api/analytics/by-strategy?${scope}`),
    get(`/api/analytics/by-operation?${scope}`),
    get(`/api/analytics/by-trigger-type?${scope}`),
    get(`/api/analytics/ai-attribution?${scope}`),
    factorRows(scope),
    Promise.all(
      shown.map(async (a) => {
        const [points, overview] = await Promise.all([get(`/api/account/${a.id}/asset-curve?${curveQuery(chosen.days)}`), get(`/api/account/${a.id}/overview`)]);
        return { name: a.name, points, now: overview.equity ?? overview.total_assets };
      }),
    ),
  ]);

  const name = chosen.trader ? (shown[0]?.name ?? `#${chosen.trader}`) : null;
  const whose = name ?? "All your traders";
  const only = name ? ` (${name})` : "";
  const equity = h("div", { id: "analytics-equity-chart" });
  const drawdown = h("div", { id: "analytics-drawdown-chart" });
  main.append(
    h("h1", { text: "Analytics" }),
    ...(name ? [filterNote(name, chosen)] : []),
    section("Show", controls(accounts, chosen, navigate)),
    section(
      `${whose}: last ${chosen.days} ${chosen.days === 1 ? "day" : "days"}`,
      figures(summary),
      h("p", {
        class: "muted",
        text: `Returns between ${chosen.period} boundaries, annualised with ${summary.returns.periods_per_year} periods a year and a risk-free rate of ${summary.returns.risk_free_rate}; a ratio is "–" where it is undefined (docs/ANALYTICS.md).`,
      }),
    ),
    section(name ? "Traders compared (all your traders)" : "Traders compared", comparison(accounts, summaries)),
    section("Equity", equity),
    section("Drawdown", h("p", { class: "muted", text: "Each curve's fall from its running peak, from the recorded equity; the figures above sample the equity at period boundaries." }), drawdown),
    section(`By symbol${only}`, statsTable("Closed trades by symbol", "Symbol", bySymbol, (r) => r.symbol, "by-symbol")),
    section(`By strategy${only}`, statsTable("Closed trades by strategy", "Strategy", byStrategy, (r) => r.strategy, "by-strategy")),
    section(`By decision${only}`, statsTable("By operation", "Operation", byOperation, (r) => r.operation, "by-operation"), statsTable("By trigger", "Trigger", byTrigger, (r) => r.trigger_type, "by-trigger")),
    section(`AI attribution${only}`, ...attributionParts(attribution)),
    section(`By factor${only}`, factorTable(byFactor)),
  );
  equityChart(equity, curves, "Equity");
  drawdownChart(drawdown, curves, "Drawdown (%)");
}
