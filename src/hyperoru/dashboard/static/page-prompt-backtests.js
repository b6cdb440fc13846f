// Prompt backtests: replay one of your traders with a prompt over past bars (one model
// call per snapshot), follow its progress and cost, then read its metrics, equity chart,
// round trips and the model's decisions. Routes: /api/prompt-backtests (docs/BACKTESTS.md).

import { del, get, post } from "./api.js";
import { equitySection, isoDay, jobProgress, metricsTable, tradesSection } from "./backtest-results.js";
import { clear, field, fmtSigned, fmtTime, h, input, section, select, signClass, table } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

const API = "/api/prompt-backtests";
const RUNNING = new Set(["queued", "running"]);

function cost(job) {
  return `${job.snapshots_done}/${job.sample_count} snapshots · ${job.calls} model calls, ${job.cached_calls} cached`;
}

export async function promptBacktestsPage(main, { navigate }) {
  main.append(h("h1", { text: "Prompt backtests" }));
  const [traders, prompts, runs] = await Promise.all([get("/api/account/list"), get("/api/prompts/"), get(`${API}?limit=50`)]);
  const traderName = new Map(traders.map((trader) => [trader.id, trader.name]));
  const form = h(
    "form",
    { id: "prompt-backtest-form" },
    field("Trader", select("trader_id", traders.map((t) => [t.id, t.name])), "Its model answers each snapshot; its limits apply."),
    field("Prompt", select("prompt_id", [["", "The trader's strategy prompt"], ...prompts.map((p) => [p.id, p.name])])),
    field("Symbols", input("symbols"), "Comma-separated coins; empty: the trader's strategy symbols."),
    field("Start date", input("start_date", { type: "date", value: isoDay(0), required: true })),
    field("End date", input("end_date", { type: "date", value: isoDay(3), required: true })),
    field("Candle interval", select("interval", ["1m", "5m", "15m", "1h", "4h", "1d"], "4h"), "One snapshot (one model call) per candle; at most 500."),
    field("Initial balance (USD)", input("initial_balance", { type: "number", min: "1", step: "any", value: "10000" })),
    h("button", { type: "submit", text: "Start prompt backtest", disabled: traders.length === 0 }),
  );
  submitForm(form, async (values) => {
    const config = {
      start_date: `${values.start_date}T00:00:00Z`,
      end_date: `${values.end_date}T00:00:00Z`,
      interval: values.interval,
      initial_balance: Number(values.initial_balance),
    };
    const symbols = (values.symbols || "").split(",").map((s) => s.trim()).filter(Boolean);
    if (symbols.length) config.symbols = symbols;
    const body = { trader_id: Number(values.trader_id), config };
    if (values.prompt_id) body.prompt_id = Number(values.prompt_id);
    const job = await post(API, body);
    navigate(`#/prompt-backtest/${job.id}`);
  });

  main.append(
    section("New prompt backtest", form),
    section(
      "History",
      runs.length === 0
        ? h("p", { text: "No prompt backtests yet." })
        : table(
            "Prompt backtests, newest first",
            ["Run", "Trader", "Prompt", "Status", "Created", "Cost", "PnL", ""],
            runs.map((run) => {
              const verb = RUNNING.has(run.status) ? "Cancel" : "Delete";
              const remove = onPress(h("button", { type: "button", class: "small", text: verb, "aria-label": `${verb} prompt backtest ${run.id}` }), async () => {
                await del(`${API}/${run.id}`);
                navigate("#/prompt-backtests");
              });
              return h(
                "tr",
                {},
                h("th", { scope: "row" }, h("a", { href: `#/prompt-backtest/${run.id}`, text: `#${run.id}` })),
                h("td", { text: traderName.get(run.trader_id) || `#${run.trader_id}` }),
                h("td", { text: run.prompt_name }),
                h("td", { text: `${run.status}${RUNNING.has(run.status) ? ` ${Math.round(run.progress)}%` : ""}` }),
                h("td", { text: fmtTime(run.created_at) }),
                h("td", { text: `${run.calls} calls, ${run.cached_calls} cached` }),
                h("td", { class: `num ${signClass(run.total_pnl)}`, text: fmtSigned(run.total_pnl) }),
                h("td", {}, remove),
              );
            }),
            { id: "prompt-backtests-table" },
          ),
    ),
  );
}

// One snapshot: what the model decided there and what came of it at the next open.
function snapshotCard(snapshot) {
  const outcomes = snapshot.outcomes.map((outcome) => {
    const verdict = outcome.approved ? "approved" : "rejected";
    const filled = outcome.execution?.status ? `, ${outcome.execution.status}` : "";
    return h(
      "li",
      { class: outcome.approved ? "up" : "down" },
      `${outcome.operation || "?"} ${outcome.symbol || ""}: ${verdict}${outcome.reason ? ` (${outcome.reason})` : ""}${filled}`,
    );
  });
  const headline = snapshot.decisions.map((d) => `${d.operation || "?"} ${d.symbol || ""}`.trim()).join(", ") || snapshot.status;
  const reasoning = snapshot.decisions.map((d) => d.reasoning).filter(Boolean).join("\n");
  return h(
    "article",
    { class: `decision ${snapshot.status}`, dataset: { barIndex: snapshot.bar_index } },
    h(
      "header",
      {},
      h("strong", { text: headline }),
      " ",
      h("span", { class: "muted", text: `${fmtTime(snapshot.time)}${snapshot.cached ? " · cached" : ""} · ${snapshot.latency_ms} ms` }),
    ),
    snapshot.error ? h("p", { class: "error", text: snapshot.error }) : null,
    reasoning ? h("p", { class: "reasoning", text: reasoning }) : null,
    outcomes.length ? h("ul", { class: "verdicts", "aria-label": "Outcomes" }, outcomes) : null,
    snapshot.raw_output ? h("details", {}, h("summary", { text: "Raw answer" }), h("pre", { text: snapshot.raw_output })) : null,
  );
}

export async function promptBacktestPage(main, { params, toast, navigate }) {
  const id = Number(params[0]);
  const progress = jobProgress("prompt-backtest", "Prompt backtest progress");
  const cancel = h("button", { type: "button", class: "danger", id: "prompt-backtest-cancel", text: "Cancel" });
  const about = h("p", { class: "muted", id: "prompt-backtest-about" });
  const results = h("div", { id: "prompt-backtest-results" });
  main.append(
    h("h1", { text: `Prompt backtest #${id}` }),
    h("a", { href: "#/prompt-backtests", text: "All prompt backtests" }),
    section("Progress", about, ...progress.elements, h("div", { class: "actions" }, cancel)),
    results,
  );
  onPress(cancel, async () => {
    await del(`${API}/${id}`);
    navigate(`#/prompt-backtest/${id}`);
  });

  function describe(job) {
    about.textContent = `${job.prompt_name} on ${job.symbols.join(", ")}, ${job.interval} from ${fmtTime(job.start_date)} to ${fmtTime(job.end_date)}; model ${job.llm_provider || "–"} / ${job.llm_model || "–"}`;
    return `${cost(job)}, ${job.total_tokens} tokens`;
  }

  async function showResults(job) {
    cancel.hidden = true;
    const run = await get(`${API}/${id}?include=trades,equity,decisions`);
    const decisions = section(
      "Decisions",
      run.decisions.length === 0
        ? h("p", { text: "No snapshots were taken." })
        : h("div", { class: "decisions", id: "prompt-backtest-decisions" }, run.decisions.map(snapshotCard)),
      run.sample_count > run.decisions.length
        ? h("p", { class: "muted", text: `The first ${run.decisions.length} of ${run.sample_count} snapshots.` })
        : null,
    );
    if (job.status !== "completed") {
      clear(results, decisions);
      return;
    }
    clear(
      results,
      section("Metrics", metricsTable([run])),
      equitySection(run, "prompt-backtest-equity-chart", "Prompt backtest equity"),
      tradesSection(run.trades, "prompt-backtest-trades"),
      decisions,
    );
  }

  await progress.follow(`${API}/${id}`, { describe, onDone: showResults, onError: (error) => toast(error.message) });
  return progress.stop;
}
