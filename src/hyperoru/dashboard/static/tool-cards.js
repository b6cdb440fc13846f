// A tool the assistant called, as a readable card: what it did, with which arguments,
// whether it worked, and (once the turn is stored) what it returned. Drafts and
// backtests it made get a link to the page that opens them.

import { h } from "./dom.js";

const DID = {
  list_traders: "Listed your AI traders",
  get_trader: "Read a trader's settings",
  list_positions: "Listed open positions",
  list_trades: "Listed recent trades",
  list_decisions: "Listed recent decisions",
  explain_decision: "Read a decision",
  list_programs: "Listed your programs",
  validate_program: "Validated a program",
  backtest_result: "Read a backtest's result",
  draft_prompt: "Drafted a new prompt",
  draft_program: "Drafted a new program",
  start_backtest: "Started a backtest",
};

const STATUS = {
  ok: ["done", "active"],
  error: ["failed", "error"],
  refused: ["not run: needs your confirmation", "paused"],
};

const words = (key) => key.replaceAll("_", " ");

function parseArguments(raw) {
  if (raw && typeof raw === "object") return raw;
  try {
    const parsed = JSON.parse(raw || "{}");
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return { arguments: String(raw) };
  }
}

// The result in one line: how many items a list holds, or the fields that name a thing.
function summary(result) {
  if (!result || typeof result !== "object") return null;
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value)) return `${value.length} ${words(key)}`;
  }
  const named = ["name", "status", "valid"].filter((key) => key in result);
  return named.length ? named.map((key) => `${words(key)}: ${result[key]}`).join(", ") : null;
}

function openLinks(name, result) {
  if (!result || typeof result !== "object") return [];
  const links = [];
  if (name === "draft_prompt" && result.prompt_id)
    links.push(h("a", { class: "button", href: `#/prompts/${result.prompt_id}`, text: "Open in Prompts" }));
  if (name === "draft_program" && result.program_id)
    links.push(h("a", { class: "button", href: `#/programs/${result.program_id}`, text: "Open in Programs" }));
  if ((name === "start_backtest" || name === "backtest_result") && result.backtest_id)
    links.push(h("a", { class: "button", href: `#/backtest/${result.backtest_id}`, text: "Open the backtest" }));
  return links;
}

// call: the tool_call frame ({ id, name, arguments, status, error }); result: what the
// tool returned (only known from the stored conversation, not from the stream).
export function toolCard(call, result) {
  const [statusText, badge] = STATUS[call.status] || [call.status || "running", "paused"];
  const args = Object.entries(parseArguments(call.arguments));
  const error = call.error || (call.status === "error" && result) || null;
  const summed = call.status === "ok" ? summary(result) : null;
  return h(
    "article",
    { class: "tool-card", dataset: { tool: call.name, status: call.status || "" } },
    h(
      "p",
      { class: "title-row" },
      h("strong", { text: DID[call.name] || `Ran ${words(call.name)}` }),
      h("span", { class: `badge ${badge}`, text: statusText }),
    ),
    h("p", { class: "muted", text: `tool ${call.name}` }),
    args.length
      ? h("dl", { class: "tool-args" }, args.flatMap(([key, value]) => [h("dt", { text: words(key) }), h("dd", { text: typeof value === "object" ? JSON.stringify(value) : String(value) })]))
      : null,
    error ? h("p", { class: "error", text: error.message || JSON.stringify(error) }) : null,
    summed ? h("p", { text: `Result: ${summed}` }) : null,
    result !== undefined && call.status === "ok"
      ? h("details", {}, h("summary", { text: "What it returned" }), h("pre", { text: typeof result === "string" ? result : JSON.stringify(result, null, 2) }))
      : null,
    ...openLinks(call.name, result),
  );
}
