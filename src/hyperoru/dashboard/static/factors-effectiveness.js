// Factor effectiveness (docs/FACTORS.md): start a run and follow it until it is done, the
// IC table of the last run, and one factor's decay, windows and IC history.

import { fmtRatio, fmtShare } from "./analytics-tables.js";
import { get, post } from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { clear, field, fmtNumber, fmtTime, h, section, select, table } from "./dom.js";
import { sortableTable } from "./sortable.js";

const POLL_MS = 500;
const KINDS = [
  ["time_series", "Each symbol over time (time series)"],
  ["cross_sectional", "Across symbols at each bar (cross-sectional)"],
];
const STATS = [
  ["ic", "IC", fmtRatio],
  ["rank_ic", "Rank IC", fmtRatio],
  ["icir", "ICIR", fmtRatio],
  ["rank_icir", "Rank ICIR", fmtRatio],
  ["t_stat", "t-stat", fmtRatio],
  ["win_rate", "Win rate", fmtShare],
  ["periods", "Periods", String],
];
const fmtBars = (value) => (value === null || value === undefined ? "–" : `${fmtNumber(value, 1)} bars`);

function statColumns() {
  return STATS.map(([key, heading, text]) => ({ heading, key, value: (row) => row[key], text: (row) => text(row[key]) }));
}

export function effectivenessSection(toast) {
  const kind = select("kind", KINDS);
  const progress = h("progress", { id: "effectiveness-progress", max: "100", value: "0", "aria-label": "Effectiveness run progress", hidden: true });
  const status = h("p", { id: "effectiveness-status", role: "status" });
  const results = h("div", { id: "effectiveness-results" });
  const detail = h("div", { id: "effectiveness-detail" });
  const start = h("button", { type: "button", text: "Measure now" });
  let timer = null;
  let stopped = false;

  async function load() {
    const rows = await get(`/api/factors/effectiveness?kind=${kind.value}&limit=1000`);
    clear(detail);
    if (rows.length === 0) {
      clear(results, h("p", { class: "muted", text: "Not measured yet: press “Measure now” (the server also measures on its schedule when the operator sets one)." }));
      return;
    }
    const basis = rows[0];
    const choice = select("factor", rows.map((row) => row.factor_name));
    const show = h("button", { type: "button", text: "Show factor" });
    show.addEventListener("click", () => showDetail(choice.value).catch((error) => toast(error.message)));
    clear(
      results,
      h("p", {
        class: "muted",
        text: `Measured ${fmtTime(basis.computed_at)} on ${basis.symbols.join(", ")}, ${basis.interval} bars, the return ${basis.horizon_bars} bar(s) ahead.`,
      }),
      sortableTable(
        "Information coefficient of each factor (press a heading to sort)",
        [
          { heading: "Factor", value: (row) => row.factor_name, text: (row) => row.factor_name },
          { heading: "Source", key: "source", value: (row) => row.source, text: (row) => row.source },
          ...statColumns(),
          { heading: "Half-life", key: "half_life_bars", value: (row) => row.half_life_bars, text: (row) => fmtBars(row.half_life_bars) },
        ],
        rows,
        { id: "effectiveness-table", sortBy: "Rank IC", rowKey: (row) => row.factor_name },
      ),
      h("div", { class: "inline-form" }, field("Factor", choice), show),
    );
  }

  async function showDetail(name) {
    const path = `/api/factors/effectiveness/${encodeURIComponent(name)}`;
    const [one, history] = await Promise.all([get(`${path}?kind=${kind.value}`), get(`${path}/history?kind=${kind.value}`)]);
    const decay = h("div", { id: "effectiveness-decay-chart" });
    const days = h("div", { id: "effectiveness-history-chart" });
    const windows = table(
      "By window",
      ["Window", ...STATS.map(([, heading]) => heading)],
      one.by_window.map((row) => h("tr", {}, h("th", { scope: "row", text: row.window }), STATS.map(([key, , text]) => h("td", { class: "num", text: text(row[key]) })))),
    );
    const perSymbol = one.per_symbol
      ? table(
          "Per symbol",
          ["Symbol", ...STATS.map(([, heading]) => heading)],
          Object.entries(one.per_symbol).map(([symbol, row]) => h("tr", {}, h("th", { scope: "row", text: symbol }), STATS.map(([key, , text]) => h("td", { class: "num", text: text(row[key]) })))),
        )
      : null;
    clear(
      detail,
      h("h3", { text: `${one.factor_name} (${one.kind.replace("_", " ")})` }),
      h("p", { text: `Half-life ${fmtBars(one.decay.half_life_bars)} (${one.decay.method}). The other kind: rank IC ${fmtRatio(one.other.rank_ic)}, IC ${fmtRatio(one.other.ic)}.` }),
      decay,
      windows,
      perSymbol,
      days,
    );
    barChart(decay, { title: "IC by horizon", x: one.decay.horizons.map(String), y: one.decay.ic, xTitle: "bars ahead" });
    lineChart(
      days,
      [
        { name: "IC", x: history.map((row) => row.date), y: history.map((row) => row.ic) },
        { name: "Rank IC", x: history.map((row) => row.date), y: history.map((row) => row.rank_ic) },
      ],
      { title: "IC by day", empty: "Fewer than two days measured: no history to draw yet.", yaxis: { automargin: true, tickformat: ",.3f" } },
    );
  }

  async function poll(url) {
    const run = await get(url);
    progress.value = Number(run.progress_pct || 0);
    status.dataset.status = run.status;
    status.textContent = `Run #${run.id}: ${run.status} – ${Math.round(Number(run.progress_pct || 0))}%${run.error ? `: ${run.error}` : ""}`;
    if (run.status === "queued" || run.status === "running") {
      if (!stopped) timer = setTimeout(() => poll(url).catch((error) => toast(error.message)), POLL_MS);
      return;
    }
    progress.hidden = true;
    start.disabled = false;
    if (run.status === "completed") {
      status.textContent = `Run #${run.id} measured ${run.result.factors} factors on ${run.result.bars} bars.`;
      await load();
    }
  }

  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const run = await post("/api/factors/effectiveness/compute");
      progress.hidden = false;
      await poll(run.status_url);
    } catch (error) {
      start.disabled = false;
      toast(error.message);
    }
  });
  kind.addEventListener("change", () => load().catch((error) => toast(error.message)));

  const el = section("Effectiveness", h("div", { class: "inline-form" }, field("Kind", kind), start), progress, status, results, detail);
  return {
    el,
    load,
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
