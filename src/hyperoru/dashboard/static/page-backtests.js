// Program backtests: start one, watch its progress, and read its equity chart, trades
// and metrics; compare two finished runs side by side.

import { del, get, post } from "./api.js";
import { equitySection, isoDay, jobProgress, metricsTable, tradesSection } from "./backtest-results.js";
import { equityChart } from "./charts.js";
import { clear, field, fmtSigned, fmtTime, h, input, section, select, signClass, table } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

export async function backtestsPage(main, { navigate }) {
  main.append(h("h1", { text: "Backtests" }));
  const [programs, runs] = await Promise.all([get("/api/programs/"), get("/api/backtests?limit=50")]);
  const form = h(
    "form",
    { id: "backtest-form" },
    programs.length
      ? field("Program", select("program_id", programs.map((p) => [p.id, p.name])))
      : h("p", {}, "No programs yet: ", h("a", { href: "#/programs", text: "write one first" }), "."),
    field("Symbols", input("symbols", { value: "BTC", required: true }), "Comma-separated coins."),
    field("Start date", input("start_date", { type: "date", value: isoDay(0), required: true })),
    field("End date", input("end_date", { type: "date", value: isoDay(3), required: true })),
    field("Candle interval", select("interval", ["1m", "5m", "15m", "1h", "4h", "1d"], "1h")),
    field("Initial balance (USD)", input("initial_balance", { type: "number", min: "1", step: "any", value: "10000" })),
    h("button", { type: "submit", text: "Start backtest", disabled: programs.length === 0 }),
  );
  submitForm(form, async (values) => {
    const job = await post("/api/backtests", {
      program_id: Number(values.program_id),
      config: {
        symbols: values.symbols.split(",").map((s) => s.trim()).filter(Boolean),
        start_date: `${values.start_date}T00:00:00Z`,
        end_date: `${values.end_date}T00:00:00Z`,
        interval: values.interval,
        initial_balance: Number(values.initial_balance),
      },
    });
    navigate(`#/backtest/${job.id}`);
  });

  const first = select("compare_a", runs.map((run) => [run.id, `#${run.id} ${run.program_name || ""} (${run.status})`]));
  const second = select("compare_b", runs.map((run) => [run.id, `#${run.id} ${run.program_name || ""} (${run.status})`]), runs[1]?.id);
  const comparison = h("div", { id: "comparison" });
  const compareForm = h(
    "form",
    { id: "compare-form", class: "inline-form" },
    field("First run", first),
    field("Second run", second),
    h("button", { type: "submit", text: "Compare", disabled: runs.length < 2 }),
  );
  submitForm(compareForm, async () => {
    const [a, b] = await Promise.all([get(`/api/backtests/${first.value}`), get(`/api/backtests/${second.value}`)]);
    const chart = h("div", { id: "compare-chart" });
    clear(comparison, metricsTable([a, b]), chart);
    equityChart(chart, [a, b].map((run) => ({ name: `#${run.id}`, points: run.equity_curve || [] })), "Equity compared");
  });

  main.append(
    section("New backtest", form),
    section(
      "History",
      runs.length === 0
        ? h("p", { text: "No backtests yet." })
        : table(
            "Backtests, newest first",
            ["Run", "Program", "Status", "Created", "PnL", ""],
            runs.map((run) => {
              const remove = onPress(h("button", { type: "button", class: "small", text: "Delete", "aria-label": `Delete backtest ${run.id}` }), async () => {
                await del(`/api/backtests/${run.id}`);
                navigate("#/backtests");
              });
              return h(
                "tr",
                {},
                h("th", { scope: "row" }, h("a", { href: `#/backtest/${run.id}`, text: `#${run.id}` })),
                h("td", { text: run.program_name || String(run.program_id) }),
                h("td", { text: run.status }),
                h("td", { text: fmtTime(run.created_at) }),
                h("td", { class: `num ${signClass(run.total_pnl)}`, text: fmtSigned(run.total_pnl) }),
                h("td", {}, remove),
              );
            }),
            { id: "backtests-table" },
          ),
    ),
    section("Compare two runs", compareForm, comparison),
  );
}

export async function backtestPage(main, { params, toast }) {
  const id = Number(params[0]);
  const progress = jobProgress("backtest", "Backtest progress");
  const results = h("div", { id: "backtest-results" });
  main.append(
    h("h1", { text: `Backtest #${id}` }),
    h("a", { href: "#/backtests", text: "All backtests" }),
    section("Progress", ...progress.elements),
    results,
  );

  async function showResults(job) {
    if (job.status !== "completed") return;
    const run = await get(`/api/backtests/${id}`);
    clear(
      results,
      section("Metrics", metricsTable([run])),
      equitySection(run, "backtest-equity-chart", "Backtest equity"),
      tradesSection(run.trades, "backtest-trades"),
      run.logs && run.logs.length ? section("Program log", h("pre", { text: run.logs.join("\n") })) : null,
    );
  }

  // The long parts only once it is done: polling stays cheap (docs/BACKTESTS.md).
  await progress.follow(`/api/backtests/${id}?include=none`, { onDone: showResults, onError: (error) => toast(error.message) });
  return progress.stop;
}
