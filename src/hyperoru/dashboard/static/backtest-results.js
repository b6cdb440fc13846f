// What program and prompt backtests show alike: the progress of the job (polled), the
// metrics, the round trips and the equity curve. Both APIs answer the same result fields
// (docs/BACKTESTS.md), so one set of views serves both pages.

import { get } from "./api.js";
import { equityChart } from "./charts.js";
import { fmtMoney, fmtNumber, fmtPct, fmtSigned, fmtTime, h, section, signClass, table } from "./dom.js";

const POLL_MS = 500;
const RUNNING = new Set(["queued", "running"]);
const DAY_MS = 86400000;

const METRICS = [
  ["total_pnl", "Total PnL", fmtSigned],
  ["total_pnl_percent", "Return", fmtPct],
  ["total_trades", "Trades", String],
  ["win_rate", "Win rate", (v) => fmtNumber(v, 4)],
  ["profit_factor", "Profit factor", (v) => fmtNumber(v, 3)],
  ["sharpe_ratio", "Sharpe ratio", (v) => fmtNumber(v, 3)],
  ["max_drawdown_pct", "Max drawdown", fmtPct],
  ["final_equity", "Final equity", fmtMoney],
];

// A default date of the start forms: that many days after 2026-01-01.
export function isoDay(offsetDays) {
  return new Date(Date.UTC(2026, 0, 1) + offsetDays * DAY_MS).toISOString().slice(0, 10);
}

export function metricsTable(runs) {
  return table(
    "Metrics",
    ["Metric", ...runs.map((run) => `#${run.id}`)],
    METRICS.map(([key, label, format]) =>
      h(
        "tr",
        { dataset: { metric: key } },
        h("th", { scope: "row", text: label }),
        runs.map((run) => h("td", { class: "num", text: run[key] === null || run[key] === undefined ? "–" : format(run[key]) })),
      ),
    ),
    { class: "metrics" },
  );
}

export function tradesSection(trades, id) {
  return section(
    "Trades",
    trades.length === 0
      ? h("p", { text: "No trades." })
      : table(
          "Round trips",
          ["Symbol", "Side", "Quantity", "Entry", "Entry price", "Exit", "Exit price", "Exit reason", "PnL", "Fees"],
          trades.map((trade) =>
            h(
              "tr",
              {},
              h("td", { text: trade.symbol }),
              h("td", { text: trade.side }),
              h("td", { class: "num", text: fmtNumber(trade.quantity) }),
              h("td", { text: fmtTime(trade.entry_time) }),
              h("td", { class: "num", text: fmtNumber(trade.entry_price) }),
              h("td", { text: fmtTime(trade.exit_time) }),
              h("td", { class: "num", text: fmtNumber(trade.exit_price) }),
              h("td", { text: trade.exit_reason || "open" }),
              h("td", { class: `num ${signClass(trade.realized_pnl)}`, text: fmtSigned(trade.realized_pnl) }),
              h("td", { class: "num", text: fmtNumber(trade.fees) }),
            ),
          ),
          { id },
        ),
  );
}

export function equitySection(run, id, title) {
  const chart = h("div", { id });
  // Drawn once it is in the page: plotly measures its container.
  queueMicrotask(() => equityChart(chart, [{ name: `#${run.id}`, points: run.equity_curve || [] }], title));
  return section("Equity", chart);
}

// The progress bar and status line of one job, polled at ``url`` while it is queued or
// running; ``describe(job)`` adds to the status line and ``onDone(job)`` runs once it has
// finished (unless the page was left first: ``stop``). ``follow`` resolves after the
// first answer, so the page is ready while the job still runs.
export function jobProgress(prefix, label) {
  const bar = h("progress", { id: `${prefix}-progress`, max: "100", value: "0", "aria-label": label });
  const state = h("p", { id: `${prefix}-status`, role: "status" });
  let timer = null;
  let stopped = false;

  function show(job, describe) {
    const percent = Number(job.progress || 0);
    bar.value = percent;
    const more = describe ? describe(job) : "";
    state.textContent = `${job.status} – ${Math.round(percent)}%${more ? ` · ${more}` : ""}${job.error ? `: ${job.error}` : ""}`;
    state.dataset.status = job.status;
  }

  async function follow(url, { describe, onDone, onError }) {
    async function poll() {
      const job = await get(url);
      if (stopped) return;
      show(job, describe);
      if (RUNNING.has(job.status)) timer = setTimeout(() => poll().catch(onError), POLL_MS);
      else await onDone(job);
    }
    await poll();
  }

  function stop() {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  }

  return { elements: [bar, state], follow, stop };
}
